import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBundle } from '../../src/cli/render-command.js';
import { writeBundle } from '../../src/emit/write-bundle.js';
import type { Bundle } from '../../src/render/render-bundle.js';
import { asUser as setprivAs, cliForAnyUser } from '../helpers/any-user.js';
import { cli, repoRoot } from '../helpers/render.js';
import { snapshotTree } from './support/tree.js';

/**
 * test/safety/broken/<case>/ is a small project (gen-fw.yaml, conf.d/, set files) that
 * must be refused. expect.txt lists substrings the messages must contain, one a line;
 * setup.json (optional) says { args, chmod: { path: "000" }, asUser: uid }.
 */
const brokenDir = join(repoRoot, 'test/safety/broken');
const cases = readdirSync(brokenDir).sort();
const isRoot = process.getuid?.() === 0;

interface Setup {
  args?: string[];
  chmod?: Record<string, string>;
  asUser?: number;
}

const quiet = { result() {}, error() {}, warnings() {} };
let good: Bundle;
const dirs: string[] = [];
/** Renders as another user run a copy of the CLI that user can read, wherever the checkout is. */
const publicCli = cliForAnyUser();

beforeAll(async () => {
  // An earlier, good bundle that every broken render must leave alone.
  const scenario = join(repoRoot, 'test/scenarios/reject-v4-only');
  good = await planBundle(
    { config: join(scenario, 'gen-fw.yaml'), confD: join(scenario, 'conf.d'), templates: join(repoRoot, 'templates') },
    quiet,
  );
});

afterAll(() => {
  // A case may have made a directory unreadable (chmod 000): without root, give it back first.
  for (const d of dirs) {
    spawnSync('chmod', ['-R', 'u+rwx', d]);
    rmSync(d, { recursive: true, force: true });
  }
});

function expectations(name: string): string[] {
  return readFileSync(join(brokenDir, name, 'expect.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

async function gen(args: string[], cwd: string, asUser?: number) {
  if (asUser !== undefined && isRoot) {
    const [setpriv, ...opts] = setprivAs(asUser);
    return execa(setpriv!, [...opts, process.execPath, await publicCli(), ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
  }
  return execa(process.execPath, [cli, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('internal error');
}

describe.concurrent('a broken config is refused with messages people can act on, and nothing is written', () => {
  it('has a corpus of at least 20 cases, each with expectations', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const c of cases) expect(expectations(c).length, c).toBeGreaterThan(0);
  });

  it.each(cases)('%s', async (name) => {
    const caseDir = join(brokenDir, name);
    const setup: Setup = existsSync(join(caseDir, 'setup.json')) ? JSON.parse(readFileSync(join(caseDir, 'setup.json'), 'utf8')) : {};
    const dir = mkdtempSync(join(tmpdir(), `gfw-broken-${name}-`));
    dirs.push(dir);
    cpSync(caseDir, dir, { recursive: true });
    rmSync(join(dir, 'expect.txt'));
    rmSync(join(dir, 'setup.json'), { force: true });
    const out = join(dir, 'build/firewall');
    await writeBundle(good, out);
    const before = snapshotTree(join(dir, 'build'));

    for (const [path, mode] of Object.entries(setup.chmod ?? {})) chmodSync(join(dir, path), parseInt(mode, 8));
    if (setup.asUser !== undefined) chmodSync(dir, 0o755);

    const r = await gen(['render', '--out', out, ...(setup.args ?? [])], dir, setup.asUser);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    for (const want of expectations(name)) expect(r.stderr).toContain(want);
    noStackTrace(r.stderr);
    // One line per problem, each naming a file, then the count.
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+ problems?; nothing was written\.$/);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^(error|warning): [^\s:]+(:\d+:\d+)?[ :]/);
    expect(snapshotTree(join(dir, 'build')), 'the earlier bundle must be untouched').toEqual(before);
  });

  it('reports every problem of a render at once, across files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gfw-broken-all-'));
    dirs.push(dir);
    for (const name of ['two-files-two-errors', 'unknown-key-did-you-mean']) {
      cpSync(join(brokenDir, name), join(dir, name), { recursive: true });
    }
    const r = await gen(['render', '--config', 'two-files-two-errors/gen-fw.yaml', '--conf-d', 'unknown-key-did-you-mean/conf.d'], dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('two-files-two-errors/gen-fw.yaml:1:6 dns:');
    expect(r.stderr).toContain('unknown-key-did-you-mean/conf.d/web.yaml:5:5 rules[0].coment:');
    expect(r.stderr).toContain('2 problems; nothing was written.');

    // lint reads the same way and refuses the same problems.
    const lint = await gen(['lint', '--config', 'two-files-two-errors/gen-fw.yaml', '--conf-d', 'unknown-key-did-you-mean/conf.d'], dir);
    expect(lint.exitCode).toBe(2);
    expect(lint.stderr).toBe(r.stderr);
  });

  it('prints no stack trace for input errors even with --debug', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gfw-broken-debug-'));
    dirs.push(dir);
    cpSync(join(brokenDir, 'yaml-unresolved-alias'), dir, { recursive: true });
    const r = await gen(['--debug', 'render', '--out', join(dir, 'out')], dir);
    expect(r.exitCode).toBe(2);
    noStackTrace(r.stderr);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
