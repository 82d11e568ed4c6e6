import type { Box } from './boxes.js';

/** Ports per bucket, and the widest port range that is put in buckets (wider ones are met by every rule). */
const BUCKET = 16;
const WIDE = 64 * BUCKET;

/**
 * Boxes in the order they were added, found by destination port: a rule only meets the
 * earlier rules whose ports overlap its own, so a thousand services on a thousand ports
 * do not compare each with each.
 */
export class BoxIndex<T extends { box: Box }> {
  private readonly all: T[] = [];
  private readonly wide: number[] = [];
  /** By bucket number (a port / BUCKET: plain numbers, which a Map hashes far faster than bigints). */
  private readonly buckets = new Map<number, number[]>();

  get size(): number {
    return this.all.length;
  }

  add(item: T): void {
    const i = this.all.push(item) - 1;
    const keys = bucketsOf(item.box);
    if (!keys) this.wide.push(i);
    else
      for (let n = 0; n < keys.length; n++) {
        // Once per bucket, even for a box with two spans there (--dports 22,25): each list holds each item once.
        const list = this.at(keys[n]!);
        if (list[list.length - 1] !== i) list.push(i);
      }
  }

  /** The items whose ports may meet `box`'s, in the order they were added. */
  near(box: Box): T[] {
    const keys = bucketsOf(box);
    if (!keys) return this.all;
    const lists: number[][] = this.wide.length > 0 ? [this.wide] : [];
    for (let n = 0; n < keys.length; n++) {
      const list = this.buckets.get(keys[n]!);
      if (list) lists.push(list);
    }
    // Each list is in order; merged, each item once (a rule on several nearby ports is in several buckets).
    let idx: number[] = lists[0] ?? [];
    for (let n = 1; n < lists.length; n++) idx = mergeSorted(idx, lists[n]!);
    const out: T[] = [];
    for (let n = 0; n < idx.length; n++) out.push(this.all[idx[n]!]!);
    return out;
  }

  private at(k: number): number[] {
    let list = this.buckets.get(k);
    if (!list) this.buckets.set(k, (list = []));
    return list;
  }
}

/** Two ascending lists as one, each number once. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  }
  return out;
}

function bucketsOf(box: Box): number[] | undefined {
  const keys: number[] = [];
  for (let n = 0; n < box.dport.length; n++) {
    // Ports are below 2^16: exact as numbers.
    const a = Number(box.dport[n]![0]);
    const b = Number(box.dport[n]![1]);
    if (b - a >= WIDE) return undefined;
    for (let k = Math.floor(a / BUCKET); k <= Math.floor(b / BUCKET); k++) keys.push(k);
  }
  return keys;
}
