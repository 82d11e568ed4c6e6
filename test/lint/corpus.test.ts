import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/render.js';

/**
 * Each folder is a small project (conf.d/, gen-fw.yaml when it needs one) with what
 * `gen-fw lint` must print: expected.txt (stdout) and expected.json. A folder named bad-*
 * is bad input: expected.txt is then what goes to stderr. UPDATE_GOLDEN=1 rewrites them.
 */
const corpus = join(repoRoot, 'test/lint');
const cases = readdirSync(corpus)
  .filter((d) => statSync(join(corpus, d)).isDirectory())
  .sort();
const update = Boolean(process.env.UPDATE_GOLDEN);
const tmp = mkdtempSync(join(tmpdir(), 'gen-fw-lint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expected(dir: string, name: string, actual: string): string {
  const file = join(dir, name);
  if (update) writeFileSync(file, actual);
  return readFileSync(file, 'utf8');
}

it('refuses an unknown --format with exit 2', async () => {
  const r = await runCli(['lint', '--format', 'yaml'], join(corpus, 'clean'));
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('--format: "yaml" is not text or json');
  expect(r.stdout).toBe('');
});

describe.each(cases)('lint corpus: %s', (name) => {
  const dir = join(corpus, name);
  const badInput = name.startsWith('bad-');

  if (badInput) {
    it('refuses bad input with exit 2, naming file, line and key, and prints nothing on stdout', async () => {
      const r = await runCli(['lint'], dir);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr + '\n').toBe(expected(dir, 'expected.txt', r.stderr + '\n'));
    });
    return;
  }

  it('prints the expected findings as text, exit 1 when there are any and 0 when none', async () => {
    const r = await runCli(['lint'], dir);
    const want = expected(dir, 'expected.txt', r.stdout + '\n');
    expect(r.stdout + '\n').toBe(want);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(want.startsWith('no findings') ? 0 : 1);
  });

  it('prints the same findings as JSON', async () => {
    const r = await runCli(['lint', '--format', 'json'], dir);
    const want = expected(dir, 'expected.json', r.stdout + '\n');
    expect(r.stdout + '\n').toBe(want);
    const findings = (JSON.parse(r.stdout) as { findings: { kind: string }[] }).findings;
    expect(r.exitCode).toBe(findings.length ? 1 : 0);
    // Text and JSON say the same: one line per finding.
    const text = readFileSync(join(dir, 'expected.txt'), 'utf8');
    expect(findings.length).toBe(text.startsWith('no findings') ? 0 : text.trim().split('\n').length);
  });

  it('render prints the same findings as warnings and still renders', async () => {
    const out = join(tmp, name);
    const r = await runCli(['render', '--out', out], dir);
    expect(r.exitCode).toBe(0);
    const text = readFileSync(join(dir, 'expected.txt'), 'utf8');
    const lines = text.startsWith('no findings')
      ? []
      : text
          .trim()
          .split('\n')
          .map((l) => `warning: ${l}`);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: '))).toEqual(lines);
    expect(existsSync(join(out, 'install.sh'))).toBe(true);
  });
});
