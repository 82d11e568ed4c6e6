import { describe, expect, it } from 'vitest';
import { BoxIndex } from '../../src/lint/box-index.js';
import type { Box } from '../../src/lint/boxes.js';
import { normalise, span } from '../../src/lint/intervals.js';

const ALL = span(0, 65535);
const box = (dport: readonly (readonly [number, number])[]): Box => ({
  proto: span(6),
  src: ALL,
  dst: ALL,
  sport: ALL,
  dport: normalise(dport.map(([a, b]) => [BigInt(a), BigInt(b)] as const)),
  iif: span(0),
  oif: span(0),
});

describe('BoxIndex: the earlier boxes whose ports may meet, in order, each once', () => {
  it('finds each item once and in the order added, from one bucket, several, and the wide ones', () => {
    const index = new BoxIndex<{ name: string; box: Box }>();
    index.add({
      name: 'ssh+smtp',
      box: box([
        [22, 22],
        [25, 25],
      ]),
    }); // two spans in one bucket
    index.add({ name: 'wide', box: box([[0, 65535]]) });
    index.add({
      name: 'web',
      box: box([
        [80, 80],
        [443, 443],
      ]),
    });
    index.add({ name: 'range', box: box([[20, 90]]) });
    const names = (dport: [number, number][]) => index.near(box(dport)).map((i) => i.name);
    expect(names([[22, 22]])).toEqual(['ssh+smtp', 'wide', 'range']);
    expect(
      names([
        [25, 25],
        [80, 80],
      ]),
    ).toEqual(['ssh+smtp', 'wide', 'web', 'range']);
    expect(names([[443, 443]])).toEqual(['wide', 'web']);
    expect(names([[0, 65535]]).length).toBe(4);
  });

  it('finds an item once when no wide box is there and the query meets one bucket', () => {
    const index = new BoxIndex<{ name: string; box: Box }>();
    index.add({
      name: 'ssh+smtp',
      box: box([
        [22, 22],
        [25, 25],
      ]),
    });
    expect(index.near(box([[22, 22]])).map((i) => i.name)).toEqual(['ssh+smtp']);
  });
});
