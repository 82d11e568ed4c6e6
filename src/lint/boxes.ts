import { intersect, isEmpty, meets, subtract, type IntervalSet } from './intervals.js';

/**
 * The dimensions a packet is decided on. A rule's match is a box: one interval set per
 * dimension, and a packet matches when each of its coordinates is in its dimension's set.
 */
export const DIMS = ['proto', 'src', 'dst', 'sport', 'dport', 'iif', 'oif'] as const;
export type Dim = (typeof DIMS)[number];
export type Box = Record<Dim, IntervalSet>;

/** Whether some packet is in both boxes (nothing is allocated: most pairs of rules never meet). */
export function boxesMeet(a: Box, b: Box): boolean {
  // Destination ports first: where rules differ most (a thousand services on a thousand ports).
  if (!meets(a.dport, b.dport)) return false;
  for (let k = 0; k < DIMS.length; k++) {
    const d = DIMS[k]!;
    if (d !== 'dport' && (a[d] === b[d] ? a[d].length === 0 : !meets(a[d], b[d]))) return false;
  }
  return true;
}

export function intersectBox(a: Box, b: Box): Box | undefined {
  if (!boxesMeet(a, b)) return undefined;
  const out = {} as Box;
  for (let k = 0; k < DIMS.length; k++) {
    const d = DIMS[k]!;
    out[d] = a[d] === b[d] ? a[d] : intersect(a[d], b[d]);
  }
  return out;
}

/**
 * a \ b as disjoint boxes: for each dimension k, the packets inside b on every dimension
 * before k and outside it on k. Exact; at most one box per dimension.
 */
export function subtractBox(a: Box, b: Box): Box[] {
  if (!boxesMeet(a, b)) return [a];
  const out: Box[] = [];
  // Copied only when a dimension narrows: b usually covers a on all but one or two.
  let inside = a;
  for (let k = 0; k < DIMS.length; k++) {
    const d = DIMS[k]!;
    if (a[d] === b[d]) continue;
    const outside = subtract(a[d], b[d]);
    if (isEmpty(outside)) continue;
    out.push({ ...inside, [d]: outside });
    if (inside === a) inside = { ...a };
    inside[d] = intersect(a[d], b[d]);
  }
  return out;
}

/** Boxes \ b, for a list of disjoint boxes. */
export function subtractFromAll(boxes: readonly Box[], b: Box): Box[] {
  if (boxes.length === 1) return subtractBox(boxes[0]!, b);
  const out: Box[] = [];
  for (let i = 0; i < boxes.length; i++) {
    const left = subtractBox(boxes[i]!, b);
    for (let j = 0; j < left.length; j++) out.push(left[j]!);
  }
  return out;
}
