/**
 * Sets of integers as sorted, disjoint, inclusive spans: addresses (as bigints), ports,
 * protocol numbers and interface classes all reduce to these, so one exact algebra decides
 * every match.
 */
export type Span = readonly [bigint, bigint];
export type IntervalSet = readonly Span[];

export const EMPTY: IntervalSet = [];

export function span(from: bigint | number, to: bigint | number = from): IntervalSet {
  const a = BigInt(from);
  const b = BigInt(to);
  return a <= b ? [[a, b]] : EMPTY;
}

/**
 * An array built with push has room for 17 entries; a set kept in a box for each of
 * 50,000 rules is copied to its own size (most hold one span).
 */
const fitted = <T>(items: T[]): T[] => (items.length < 16 ? items.slice() : items);

/** Sorted, with overlapping and adjacent spans merged. */
export function normalise(spans: readonly Span[]): IntervalSet {
  const sorted = [...spans].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) {
      if (b > last[1]) last[1] = b;
    } else out.push([a, b]);
  }
  return fitted(out);
}

export function union(...sets: IntervalSet[]): IntervalSet {
  return normalise(sets.flat());
}

/** Whether the single span of `x` holds every span of `y`: then x ∩ y is y, spans and all. */
function within(y: IntervalSet, x: IntervalSet): boolean {
  return x.length === 1 && y.length > 0 && x[0]![0] <= y[0]![0] && y[y.length - 1]![1] <= x[0]![1];
}

/** x ∩ y; one of them itself (no copy) when the other is one span around it, as a rule's match narrowing a whole dimension is. */
export function intersect(x: IntervalSet, y: IntervalSet): IntervalSet {
  if (within(y, x)) return y;
  if (within(x, y)) return x;
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    const a = a1 > a2 ? a1 : a2;
    const b = b1 < b2 ? b1 : b2;
    if (a <= b) out.push([a, b]);
    if (b1 < b2) i++;
    else j++;
  }
  return fitted(out);
}

export function subtract(x: IntervalSet, y: IntervalSet): IntervalSet {
  const out: Span[] = [];
  for (const [a0, b] of x) {
    let a = a0;
    for (const [c, d] of y) {
      if (d < a || c > b) continue;
      if (c > a) out.push([a, c - 1n]);
      a = d + 1n;
      if (a > b) break;
    }
    if (a <= b) out.push([a, b]);
  }
  return fitted(out);
}

export const isEmpty = (x: IntervalSet): boolean => x.length === 0;

/** Whether x and y share a member: x ∩ y is not empty, found without making it. */
export function meets(x: IntervalSet, y: IntervalSet): boolean {
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    if ((a1 > a2 ? a1 : a2) <= (b1 < b2 ? b1 : b2)) return true;
    if (b1 < b2) i++;
    else j++;
  }
  return false;
}

/** Does x hold every member of y? */
export const covers = (x: IntervalSet, y: IntervalSet): boolean => isEmpty(subtract(y, x));

export const has = (x: IntervalSet, v: bigint): boolean => x.some(([a, b]) => a <= v && v <= b);
