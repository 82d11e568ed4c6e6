import { intersect, isEmpty, subtract, type IntervalSet } from './intervals.js';

/**
 * The dimensions a packet is decided on. A rule's match is a box: one interval set per
 * dimension, and a packet matches when each of its coordinates is in its dimension's set.
 */
export const DIMS = ['proto', 'src', 'dst', 'sport', 'dport', 'iif', 'oif'] as const;
export type Dim = (typeof DIMS)[number];
export type Box = Record<Dim, IntervalSet>;

export function intersectBox(a: Box, b: Box): Box | undefined {
  // Destination ports first: where rules differ most (a thousand services on a thousand ports).
  const dport = intersect(a.dport, b.dport);
  if (isEmpty(dport)) return undefined;
  const out = {} as Box;
  for (const d of DIMS) {
    const s = d === 'dport' ? dport : intersect(a[d], b[d]);
    if (isEmpty(s)) return undefined;
    out[d] = s;
  }
  return out;
}

/**
 * a \ b as disjoint boxes: for each dimension k, the packets inside b on every dimension
 * before k and outside it on k. Exact; at most one box per dimension.
 */
export function subtractBox(a: Box, b: Box): Box[] {
  if (!intersectBox(a, b)) return [a];
  const out: Box[] = [];
  const inside = { ...a };
  for (const d of DIMS) {
    const outside = subtract(a[d], b[d]);
    if (!isEmpty(outside)) out.push({ ...inside, [d]: outside });
    inside[d] = intersect(a[d], b[d]);
  }
  return out;
}

/** Boxes \ b, for a list of disjoint boxes. */
export function subtractFromAll(boxes: readonly Box[], b: Box): Box[] {
  return boxes.flatMap((x) => subtractBox(x, b));
}
