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

/** An index of named boxes, added in order, each by its destination port ranges. */
function indexOf(items: [string, [number, number][]][]): BoxIndex<{ name: string; box: Box }> {
  const index = new BoxIndex<{ name: string; box: Box }>();
  for (const [name, dport] of items) index.add({ name, box: box(dport) });
  return index;
}

const names = (index: BoxIndex<{ name: string; box: Box }>, dport: [number, number][]) => index.near(box(dport)).map((i) => i.name);

describe('BoxIndex: the earlier boxes whose ports may meet, in order, each once', () => {
  // ssh+smtp: two spans in one bucket of 16 ports; wide: too wide for buckets.
  const SSH_SMTP: [string, [number, number][]] = [
    'ssh+smtp',
    [
      [22, 22],
      [25, 25],
    ],
  ];

  it('finds each item once and in the order added, from one bucket, several, and the wide ones', () => {
    const index = indexOf([
      SSH_SMTP,
      ['wide', [[0, 65535]]],
      [
        'web',
        [
          [80, 80],
          [443, 443],
        ],
      ],
      ['range', [[20, 90]]],
    ]);
    expect(names(index, [[22, 22]])).toEqual(['ssh+smtp', 'wide', 'range']);
    expect(
      names(index, [
        [25, 25],
        [80, 80],
      ]),
    ).toEqual(['ssh+smtp', 'wide', 'web', 'range']);
    expect(names(index, [[443, 443]])).toEqual(['wide', 'web']);
    expect(names(index, [[0, 65535]]).length).toBe(4);
  });

  it('finds an item once when no wide box is there and the query meets one bucket', () => {
    expect(names(indexOf([SSH_SMTP]), [[22, 22]])).toEqual(['ssh+smtp']);
  });
});
