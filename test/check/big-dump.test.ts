import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/render.js';

/** A chain of `n` distinct rules, as iptables-save writes a table. */
function dump(rules: string[]): string {
  return [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT DROP [0:0]',
    ':GFW-INPUT - [0:0]',
    ':GFW-INPUT-RULES - [0:0]',
    '-A INPUT -j GFW-INPUT',
    ...rules,
    'COMMIT',
    '',
  ].join('\n');
}

describe('gen-fw check on a very large chain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-big-dump-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports 100,000 rules in reverse order as drift, with no recursion proportional to the input', async () => {
    const rules = Array.from(
      { length: 100_000 },
      (_, i) => `-A GFW-INPUT-RULES -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 -j ACCEPT`,
    );
    writeFileSync(join(dir, 'saved'), dump(rules));
    writeFileSync(join(dir, 'live'), dump([...rules].reverse()));
    for (const format of ['text', 'json', 'prometheus']) {
      const r = await execa(
        'node',
        [cli, 'check', '--saved', join(dir, 'saved'), '--live', join(dir, 'live'), '--family', 'ipv4', '--format', format],
        { reject: false, maxBuffer: 1 << 30 },
      );
      expect(r.stderr, format).toBe('');
      expect(r.exitCode, format).toBe(1);
      if (format === 'text')
        expect(r.stdout.split('\n', 1)[0]).toBe(
          'IPv4: drift (rules: 99999 added, 99999 removed; policies: 0 changed; chains: 0 added, 0 removed)',
        );
      if (format === 'prometheus') expect(r.stdout).toContain('gen_fw_drift_rules_added{ruleset="ipv4"} 99999');
    }
  }, 120_000);
});
