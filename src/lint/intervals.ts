/**
 * Sets of integers as sorted, disjoint, inclusive spans: addresses (as bigints), ports,
 * protocol numbers and interface classes all reduce to these, so one exact algebra decides
 * every match.
 *
 * The loops here index their arrays and never destructure a span: a render runs this code
 * mostly in V8's interpreter (src/cli/v8-tuning.ts), where `for...of` and `const [a, b] =`
 * allocate an iterator and a result per step — half of what lint allocated at 1,000
 * services.
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
  const sorted = inOrder(spans) ? spans : [...spans].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i]!;
    const last = out[out.length - 1];
    if (last && s[0] <= last[1] + 1n) {
      if (s[1] > last[1]) last[1] = s[1];
    } else out.push([s[0], s[1]]);
  }
  return fitted(out);
}

/** Already sorted by start (most lists are): no copy to sort. */
function inOrder(spans: readonly Span[]): boolean {
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![0]) return false;
  return true;
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
    const s = x[i]!;
    const t = y[j]!;
    const a = s[0] > t[0] ? s[0] : t[0];
    const b = s[1] < t[1] ? s[1] : t[1];
    if (a <= b) out.push([a, b]);
    if (s[1] < t[1]) i++;
    else j++;
  }
  return fitted(out);
}

export function subtract(x: IntervalSet, y: IntervalSet): IntervalSet {
  const out: Span[] = [];
  for (let i = 0; i < x.length; i++) {
    let a = x[i]![0];
    const b = x[i]![1];
    for (let j = 0; j < y.length; j++) {
      const c = y[j]![0];
      const d = y[j]![1];
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
    const s = x[i]!;
    const t = y[j]!;
    if ((s[0] > t[0] ? s[0] : t[0]) <= (s[1] < t[1] ? s[1] : t[1])) return true;
    if (s[1] < t[1]) i++;
    else j++;
  }
  return false;
}

/** Does x hold every member of y? */
export const covers = (x: IntervalSet, y: IntervalSet): boolean => isEmpty(subtract(y, x));

export const has = (x: IntervalSet, v: bigint): boolean => x.some(([a, b]) => a <= v && v <= b);
