import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIMS, subtractBox, type Box } from '../../src/lint/boxes.js';
import { covers, intersect, span, subtract, union, type IntervalSet } from '../../src/lint/intervals.js';
import { ifaceMatches, interfaceClasses, Universe } from '../../src/lint/universe.js';

const member = (s: IntervalSet, v: number) => s.some(([a, b]) => a <= BigInt(v) && BigInt(v) <= b);
const arbSet = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 5 })), { maxLength: 4 })
  .map((xs) => union(...xs.map(([a, w]) => span(a, a + w))));

describe('interval sets', () => {
  it('intersect, subtract and union agree with membership, point by point', () => {
    fc.assert(
      fc.property(arbSet, arbSet, (x, y) => {
        for (let v = 0; v <= 26; v++) {
          expect(member(intersect(x, y), v)).toBe(member(x, v) && member(y, v));
          expect(member(subtract(x, y), v)).toBe(member(x, v) && !member(y, v));
          expect(member(union(x, y), v)).toBe(member(x, v) || member(y, v));
        }
      }),
    );
  });

  it('a port range covers a port inside it, not one outside', () => {
    expect(covers(span(1000, 2000), span(1500))).toBe(true);
    expect(covers(span(1000, 2000), span(2500))).toBe(false);
    expect(covers(union(span(1000, 1499), span(1500, 2000)), span(1000, 2000))).toBe(true);
  });
});

describe('boxes', () => {
  const arbBox = fc.tuple(...DIMS.map(() => arbSet)).map((sets) => Object.fromEntries(DIMS.map((d, i) => [d, sets[i]!])) as unknown as Box);
  const inBox = (b: Box, p: number[]) => DIMS.every((d, i) => member(b[d], p[i]!));

  it('a \\ b is exactly the points of a outside b, in disjoint pieces', () => {
    fc.assert(
      fc.property(
        arbBox,
        arbBox,
        fc.array(fc.array(fc.integer({ min: 0, max: 26 }), { minLength: DIMS.length, maxLength: DIMS.length }), {
          minLength: 20,
          maxLength: 20,
        }),
        (a, b, points) => {
          const pieces = subtractBox(a, b);
          for (const p of points) {
            const n = pieces.filter((x) => inBox(x, p)).length;
            expect(n).toBe(inBox(a, p) && !inBox(b, p) ? 1 : 0);
          }
        },
      ),
    );
  });
});

describe('addresses as ranges', () => {
  const v4 = new Universe(4, new Map(), []);
  const v6 = new Universe(6, new Map(), []);

  it('a /16 covers a /24 inside it and not one outside', () => {
    expect(covers(v4.cidr('10.0.0.0/16'), v4.cidr('10.0.3.0/24'))).toBe(true);
    expect(covers(v4.cidr('10.0.0.0/16'), v4.cidr('10.1.3.0/24'))).toBe(false);
    expect(covers(union(v4.cidr('10.0.0.0/17'), v4.cidr('10.0.128.0/17')), v4.cidr('10.0.0.0/16'))).toBe(true);
    expect(covers(v6.cidr('2001:db8::/32'), v6.cidr('2001:db8:1::/48'))).toBe(true);
    expect(covers(v6.cidr('2001:db8::/32'), v6.cidr('2001:db9::/48'))).toBe(false);
  });

  it('formats what it parses', () => {
    for (const a of ['10.0.3.1', '255.255.255.255', '0.0.0.0']) expect(v4.formatAddress(v4.cidr(a)[0]![0])).toBe(a);
    for (const a of ['2001:db8::7', '::1', 'fe80::1:2', '2001:db8:0:1:1:1:1:1', '::']) expect(v6.formatAddress(v6.cidr(a)[0]![0])).toBe(a);
  });

  it('a set stands for more than its file: its name covers only the same name', () => {
    const u = new Universe(4, new Map([['gfw-office-v4', { name: '@office', members: ['198.51.100.0/24'], exact: false }]]), []);
    expect(covers(u.setMembers('gfw-office-v4'), u.cidr('198.51.100.7'))).toBe(true);
    expect(covers(u.cidr('198.51.100.0/24'), u.setMembers('gfw-office-v4'))).toBe(false);
    expect(covers(u.anyAddress, u.setMembers('gfw-office-v4'))).toBe(true);
  });
});

describe('interface classes', () => {
  it('every name matches exactly the patterns some representative matches', () => {
    const arbName = fc.stringMatching(/^(eth|br-|wl)[0-2]{0,2}$/);
    const arbPattern = fc.tuple(arbName, fc.boolean()).map(([n, plus]) => (plus ? n + '+' : n));
    fc.assert(
      fc.property(fc.array(arbPattern, { maxLength: 5 }), fc.array(arbName, { maxLength: 10 }), (patterns, names) => {
        const reps = interfaceClasses(patterns);
        const sig = (n: string) => patterns.map((p) => ifaceMatches(p, n)).join();
        const repSigs = new Set(reps.map(sig));
        for (const n of [...names, 'x', 'eth', 'eth0', 'br-']) expect(repSigs.has(sig(n))).toBe(true);
      }),
    );
  });
});
