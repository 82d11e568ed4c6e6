import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localeOrder } from '../../src/shared/locale-order.js';

const sign = (n: number) => Math.sign(n);

describe("localeOrder: localeCompare's order, without ICU for plain names", () => {
  // Mostly names of the plain characters (where the code-unit shortcut is taken), with the
  // characters nearest to them in either order now and then: "_", upper case, space, "~".
  const nameChar = fc.constantFrom(
    ...'abcdefghijklmnopqrstuvwxyz0123456789./-'.split(''),
    ...'abz09.-/'.split(''),
    '_',
    'A',
    'Z',
    ' ',
    '~',
    'é',
  );
  const name = fc.array(nameChar, { maxLength: 10 }).map((cs) => cs.join(''));

  it('orders every pair of names as localeCompare does (30,000 pairs, and a shared stem)', () => {
    fc.assert(
      fc.property(name, name, name, (stem, a, b) => {
        expect(sign(localeOrder(stem + a, stem + b))).toBe(sign((stem + a).localeCompare(stem + b)));
        expect(sign(localeOrder(a, b))).toBe(sign(a.localeCompare(b)));
      }),
      { numRuns: 15_000 },
    );
  });

  it('orders any text as localeCompare does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (a, b) => {
        expect(sign(localeOrder(a, b))).toBe(sign(a.localeCompare(b)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('differs from code-unit order where ICU does: "_" and upper case', () => {
    expect(sign(localeOrder('a_b', 'a-b'))).toBe(sign('a_b'.localeCompare('a-b')));
    expect(sign(localeOrder('Web.yaml', 'api.yaml'))).toBe(1);
    expect('Web.yaml' < 'api.yaml').toBe(true);
  });
});
