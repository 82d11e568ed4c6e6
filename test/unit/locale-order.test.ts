import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { localeOrder } from '../../src/shared/locale-order.js';
import { repoRoot } from '../helpers/render.js';

const sign = (n: number) => Math.sign(n);

describe("localeOrder: English collation's order on every machine, without ICU for plain names", () => {
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

  it("orders every pair of names as localeCompare(…, 'en') does (30,000 pairs, and a shared stem)", () => {
    fc.assert(
      fc.property(name, name, name, (stem, a, b) => {
        expect(sign(localeOrder(stem + a, stem + b))).toBe(sign((stem + a).localeCompare(stem + b, 'en')));
        expect(sign(localeOrder(a, b))).toBe(sign(a.localeCompare(b, 'en')));
      }),
      { numRuns: 15_000 },
    );
  });

  it("orders any text as localeCompare(…, 'en') does", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (a, b) => {
        expect(sign(localeOrder(a, b))).toBe(sign(a.localeCompare(b, 'en')));
      }),
      { numRuns: 5_000 },
    );
  });

  it('differs from code-unit order where ICU does: "_" and upper case', () => {
    expect(sign(localeOrder('a_b', 'a-b'))).toBe(sign('a_b'.localeCompare('a-b', 'en')));
    expect(sign(localeOrder('Web.yaml', 'api.yaml'))).toBe(1);
    expect('Web.yaml' < 'api.yaml').toBe(true);
  });

  it('sorts the same under a locale with its own rules (LANG=da_DK.UTF-8 puts "aa" after "z")', () => {
    const names = ['aa-db', 'ab', 'Zeta', 'zz', 'AB_x', 'chat', 'hz', 'web.yaml', 'Web.yaml'];
    const built = join(repoRoot, 'dist/shared/locale-order.js');
    const script = `import { localeOrder } from ${JSON.stringify(built)};
      console.log(JSON.stringify([${JSON.stringify(names)}.sort(localeOrder), 'aa'.localeCompare('zz')]));`;
    const run = (LANG: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LANG, LC_ALL: LANG } }).toString(),
      ) as [string[], number];
    const [danish, danishDefault] = run('da_DK.UTF-8');
    // The locale is in force in the child (its own localeCompare puts "aa" after "zz")...
    expect(danishDefault).toBeGreaterThan(0);
    // ...and localeOrder ignores it: the order of an English machine, and of this process.
    expect(danish).toEqual(run('C.UTF-8')[0]);
    expect(danish).toEqual([...names].sort(localeOrder));
  });
});
