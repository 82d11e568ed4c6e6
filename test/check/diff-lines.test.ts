import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines } from '../../src/check/diff-lines.js';

/** The length of the longest common subsequence, the textbook way. */
function lcsLength(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = x === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

const lines = fc.array(fc.constantFrom('-A X -j A', '-A X -j B', '-A X -j C', '-A X -j D', '-A X -j E'), { maxLength: 30 });

describe('a minimal edit script between two chains', () => {
  it('turns saved into live', () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const edits = diffLines(a, b);
        expect(edits.filter((e) => e.op !== '+').map((e) => e.text)).toEqual(a);
        expect(edits.filter((e) => e.op !== '-').map((e) => e.text)).toEqual(b);
      }),
    );
  });

  it('adds and removes as few rules as diff --minimal does', () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const kept = diffLines(a, b).filter((e) => e.op === '=').length;
        expect(kept).toBe(lcsLength(a, b));
      }),
    );
  });

  it('stays fast on 10,000 rules with a few changes', () => {
    const a = Array.from({ length: 10_000 }, (_, i) => `-A GFW-INPUT-RULES -s 10.${i >> 8}.${i & 255}.0/24 -j ACCEPT`);
    const b = [...a.slice(0, 100), '-A GFW-INPUT-RULES -j ACCEPT', ...a.slice(100, 5000), ...a.slice(5001)];
    // CPU time, not wall time: on a loaded machine the clock runs while others compute.
    const started = process.cpuUsage();
    const edits = diffLines(a, b);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(2000);
    expect(edits.filter((e) => e.op === '+').map((e) => e.text)).toEqual(['-A GFW-INPUT-RULES -j ACCEPT']);
    expect(edits.filter((e) => e.op === '-').map((e) => e.text)).toEqual([a[5000]]);
  });
});
