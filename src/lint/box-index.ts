import type { Box } from './boxes.js';

const BUCKET = 16n;
const WIDE = 64n * BUCKET;

/**
 * Boxes in the order they were added, found by destination port: a rule only meets the
 * earlier rules whose ports overlap its own, so a thousand services on a thousand ports
 * do not compare each with each.
 */
export class BoxIndex<T extends { box: Box }> {
  private readonly all: T[] = [];
  private readonly wide: number[] = [];
  private readonly buckets = new Map<bigint, number[]>();

  get size(): number {
    return this.all.length;
  }

  add(item: T): void {
    const i = this.all.push(item) - 1;
    const keys = bucketsOf(item.box);
    if (!keys) this.wide.push(i);
    else for (const k of keys) this.at(k).push(i);
  }

  /** The items whose ports may meet `box`'s, in the order they were added. */
  near(box: Box): T[] {
    const keys = bucketsOf(box);
    if (!keys) return this.all;
    const idx = [...this.wide];
    for (const k of keys) {
      const list = this.buckets.get(k);
      if (list) for (const i of list) idx.push(i);
    }
    // A rule on several nearby ports is in several buckets: in order, each once.
    idx.sort((a, b) => a - b);
    const out: T[] = [];
    for (let n = 0; n < idx.length; n++) if (n === 0 || idx[n] !== idx[n - 1]) out.push(this.all[idx[n]!]!);
    return out;
  }

  private at(k: bigint): number[] {
    let list = this.buckets.get(k);
    if (!list) this.buckets.set(k, (list = []));
    return list;
  }
}

function bucketsOf(box: Box): bigint[] | undefined {
  const keys: bigint[] = [];
  for (const [a, b] of box.dport) {
    if (b - a >= WIDE) return undefined;
    for (let k = a / BUCKET; k <= b / BUCKET; k++) keys.push(k);
  }
  return keys;
}
