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

  private at(k: number): number[] {
    let list = this.buckets.get(k);
    if (!list) this.buckets.set(k, (list = []));
    return list;
  }
}

function bucketsOf(box: Box): number[] | undefined {
  const keys: number[] = [];
  for (const [from, to] of box.dport) {
    // Ports are below 2^16: exact as numbers.
    const a = Number(from);
    const b = Number(to);
    if (b - a >= WIDE) return undefined;
    for (let k = Math.floor(a / BUCKET); k <= Math.floor(b / BUCKET); k++) keys.push(k);
  }
  return keys;
}
