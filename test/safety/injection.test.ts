import { execa } from 'execa';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBundle } from '../../src/cli/render-command.js';
import { writeBundle } from '../../src/emit/write-bundle.js';
import { InputError } from '../../src/errors.js';
import { loadConfig } from '../../src/load/load-config.js';
import { readSets } from '../../src/load/read-sets.js';
import { compileRuleset } from '../../src/model/compile-ruleset.js';
import type { IptRule, Ruleset } from '../../src/model/types.js';
import type { Bundle } from '../../src/render/render-bundle.js';
import { repoRoot } from '../helpers/render.js';
import { fuzzProject, writeProject, type FuzzProject } from './support/fuzz-config.js';
import { optionValues, parseDryRun } from './support/restore-words.js';

/**
 * No value from a config file can run a command: arbitrary and hostile strings go into
 * every free-text field; each render is either refused (exit 2, InputError in-process) or
 * gives scripts that pass sh -n and shellcheck; whose fragments, run on their own, call
 * iptables with exactly the model's arguments; whose `iptables-init --dry-run` (which
 * sources every fragment) prints a payload carrying exactly those arguments; whose drift
 * check runs; whose cron line expands nothing; and none of which creates the canary file
 * or anything else in its working directory. A sample is then applied for real in a
 * network namespace. GENFW_FUZZ_RUNS=5000 for a longer run; GENFW_FUZZ_SEED=N replays
 * one (or "random").
 */
const RUNS = Number(process.env.GENFW_FUZZ_RUNS ?? 200);
const SEED = process.env.GENFW_FUZZ_SEED === 'random' ? randomBytes(4).readInt32LE() : Number(process.env.GENFW_FUZZ_SEED ?? 20261121);
const NETNS_SAMPLE = 10;

const isRoot = process.getuid?.() === 0;
/** Scripts run as nobody: an injected command that did run could not do much. */
const runAs = isRoot ? { uid: 65534, gid: 65534 } : {};
const quiet = { result() {}, error() {}, warnings() {} };
const templates = join(repoRoot, 'templates');

let root: string;
let canary: string;
let shimDir: string;
const stats = { cases: 0, refused: 0, accepted: 0 };
/** Scripts waiting for shellcheck, one per distinct content: path → which case made it. */
const pool = new Map<string, string>();
const poolKeys = new Set<string>();
/** Accepted cases kept for a real apply in a network namespace. */
const kept: { dir: string; ruleset: Ruleset; label: string }[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gfw-fuzz-'));
  chmodSync(root, 0o755);
  canary = `/tmp/gfwc-${randomBytes(3).toString('hex')}`;
  shimDir = join(root, 'shim');
  mkdirSync(shimDir);
  mkdirSync(join(root, 'shellcheck'));
  // iptables and ip6tables that record their arguments (count, name, then each, NUL-terminated).
  const shim = '#!/bin/sh\n{ printf "%s\\0" "$#" "${0##*/}"; for a in "$@"; do printf "%s\\0" "$a"; done; } >> "$GFW_SHIM_LOG"\n';
  for (const name of ['iptables', 'ip6tables']) writeFileSync(join(shimDir, name), shim, { mode: 0o755 });
  console.log(`injection fuzz: seed ${SEED}, ${RUNS} runs (replay with GENFW_FUZZ_SEED=${SEED})`);
});

afterAll(() => {
  console.log(`injection fuzz: ${stats.cases} cases, ${stats.refused} refused, ${stats.accepted} accepted, ${pool.size} distinct scripts`);
  if (root) rmSync(root, { recursive: true, force: true });
  rmSync(canary, { force: true });
});

function label(p: FuzzProject): string {
  return JSON.stringify(p.mutations);
}

function expectNoCanary(runDir: string, step: string, p: FuzzProject): void {
  expect(existsSync(canary), `${step} created the canary; mutations ${label(p)}`).toBe(false);
  expect(readdirSync(runDir), `${step} created files in its working directory; mutations ${label(p)}`).toEqual([]);
}

function commandOf(rule: IptRule): string[] {
  return [
    rule.family === 4 ? 'iptables' : 'ip6tables',
    ...(rule.table === 'filter' ? [] : ['-t', rule.table]),
    '-A',
    rule.chain,
    ...rule.args,
  ];
}

function readShimLog(path: string): string[][] {
  if (!existsSync(path)) return [];
  const parts = readFileSync(path, 'utf8').split('\0');
  const calls: string[][] = [];
  for (let i = 0; i + 1 < parts.length;) {
    const n = Number(parts[i]);
    calls.push(parts.slice(i + 1, i + 2 + n));
    i += 2 + n;
  }
  return calls;
}

function isSubsequence(small: string[][], big: string[][]): boolean {
  let j = 0;
  for (const item of big) if (j < small.length && JSON.stringify(item) === JSON.stringify(small[j])) j++;
  return j === small.length;
}

/** Render one project in-process; undefined when it is refused (exit 2). */
async function renderCase(dir: string) {
  const opts = { config: join(dir, 'gen-fw.yaml'), confD: join(dir, 'conf.d'), templates };
  try {
    const bundle = await planBundle(opts, quiet);
    const { config } = await loadConfig(opts);
    const { sets } = await readSets(config.host, opts.config);
    return { bundle, ruleset: compileRuleset(config, sets), installDir: config.host.install_dir };
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
}

/** One accepted render, written out, with an empty directory to run its scripts in. */
interface Accepted {
  p: FuzzProject;
  dir: string;
  sbin: string;
  runDir: string;
  bundle: Bundle;
  ruleset: Ruleset;
  scripts: string[];
}

async function checkCase(p: FuzzProject): Promise<void> {
  const dir = join(root, `case-${stats.cases++}`);
  writeProject(dir, p);
  const rendered = await renderCase(dir);
  if (!rendered) {
    stats.refused++;
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  stats.accepted++;
  const out = join(dir, 'out');
  await writeBundle(rendered.bundle, out);
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  chmodSync(runDir, 0o777);
  const c: Accepted = {
    p,
    dir,
    sbin: join(out, 'rootfs', rendered.installDir),
    runDir,
    bundle: rendered.bundle,
    ruleset: rendered.ruleset,
    scripts: [...rendered.bundle.entries()].filter(([, f]) => f.content.startsWith('#!')).map(([path]) => join(out, path)),
  };

  const syntax = await execa('sh', ['-c', 'for f do sh -n "$f" || { echo "$f"; exit 1; }; done', 'sh', ...c.scripts], { reject: false });
  expect(syntax.exitCode, `sh -n failed: ${syntax.stdout}${syntax.stderr}; mutations ${label(p)}`).toBe(0);
  await checkFragmentsAlone(c);
  await checkDryRun(c);
  await checkDriftCheck(c);
  checkCronLines(c);
  poolForShellcheck(c);

  if (kept.length < NETNS_SAMPLE && stats.accepted % 3 === 1) {
    kept.push({ dir, ruleset: c.ruleset, label: label(p) });
  } else {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each fragment run on its own calls iptables with exactly the model's arguments. */
async function checkFragmentsAlone(c: Accepted): Promise<void> {
  for (const fragment of c.ruleset.fragments) {
    const log = join(c.dir, `shim-${fragment.service}.log`);
    writeFileSync(log, '');
    chmodSync(log, 0o666);
    const file = join(c.sbin, 'iptables_conf.d', `iptables_${fragment.service}.sh`);
    const env = { PATH: `${shimDir}:/usr/bin:/bin`, GFW_SHIM_LOG: log };
    const r = await execa('sh', [file], { cwd: c.runDir, reject: false, env, extendEnv: false, ...runAs });
    expect(r.exitCode, `${basename(file)}: ${r.stderr}; mutations ${label(c.p)}`).toBe(0);
    expectNoCanary(c.runDir, `sh ${basename(file)}`, c.p);
    const want = fragment.sections.flatMap((s) => s.rules).map(commandOf);
    expect(readShimLog(log), `${basename(file)} called iptables with other arguments; mutations ${label(c.p)}`).toEqual(want);
  }
}

/**
 * `iptables-init --dry-run` sources every fragment the way the real apply does; its
 * payload carries the model's arguments word for word.
 */
async function checkDryRun(c: Accepted): Promise<void> {
  const dry = await execa('sh', [join(c.sbin, 'iptables-init'), '--dry-run'], { cwd: c.runDir, reject: false, ...runAs });
  expect(dry.exitCode, `iptables-init --dry-run: ${dry.stderr}; mutations ${label(c.p)}`).toBe(0);
  expectNoCanary(c.runDir, 'iptables-init --dry-run', c.p);
  const payload = parseDryRun(dry.stdout);
  const families = [...new Set(payload.map((r) => r.family))];
  expect(families).toContain(4);
  const argsIn = (rules: IptRule[], family: number) => rules.filter((r) => r.family === family).map((r) => commandOf(r).slice(1));
  for (const family of families) {
    const base = argsIn(
      c.ruleset.base.sections.flatMap((s) => s.rules),
      family,
    );
    const gotBase = payload.filter((r) => r.family === family && r.from === 'base').map((r) => r.words);
    expect(isSubsequence(base, gotBase), `IPv${family} base rules differ from the model; mutations ${label(c.p)}`).toBe(true);
    for (const fragment of c.ruleset.fragments) {
      const want = argsIn(
        fragment.sections.flatMap((s) => s.rules),
        family,
      );
      const got = payload.filter((r) => r.family === family && r.from === `iptables_${fragment.service}.sh`).map((r) => r.words);
      expect(got, `IPv${family} payload of ${fragment.service} differs from the model; mutations ${label(c.p)}`).toEqual(want);
    }
  }
}

/** The drift check runs its rendered settings too (offline: two dumps, no metrics). */
async function checkDriftCheck(c: Accepted): Promise<void> {
  const check = join(c.sbin, 'iptables-check');
  expect(existsSync(check), 'the bundle has iptables-check').toBe(true);
  const dump = join(c.dir, 'dump.v4');
  writeFileSync(dump, '*filter\n:INPUT DROP [0:0]\n:GFW-INPUT - [0:0]\n-A INPUT -j GFW-INPUT\nCOMMIT\n');
  const r = await execa('sh', [check, '--saved', dump, '--live', dump, '--no-textfile'], { cwd: c.runDir, reject: false, ...runAs });
  // The same dump on both sides: in sync, whatever the (fuzzed) settings say.
  expect(r.exitCode, `iptables-check: ${r.stderr}; mutations ${label(c.p)}`).toBe(0);
  expectNoCanary(c.runDir, 'iptables-check', c.p);
}

/** cron runs its command lines through sh and turns "%" into newlines: nothing may expand. */
function checkCronLines(c: Accepted): void {
  for (const [path, file] of c.bundle) {
    if (!path.startsWith('rootfs/etc/cron.d/')) continue;
    for (const line of file.content.split('\n')) {
      if (line === '' || line.startsWith('#') || /^[A-Z_]+=/.test(line)) continue;
      const m = /^(@\w+|(?:\S+ ){4}\S+) root (.+)$/.exec(line);
      expect(m, `${path}: not a cron line: ${line}; mutations ${label(c.p)}`).not.toBeNull();
      expect(m![2], `${path}: shell syntax in a cron command; mutations ${label(c.p)}`).not.toMatch(/[%$`;|'"()<>\\\n]/);
    }
  }
}

/**
 * Queue scripts for shellcheck, once per distinct script. Scripts that differ only in
 * comment lines are checked once: every generated comment line starts with fixed text,
 * so fuzzed text there can be neither code nor a "# shellcheck" directive.
 */
function poolForShellcheck(c: Accepted): void {
  for (const script of c.scripts) {
    const text = readFileSync(script, 'utf8');
    const code = text
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n');
    const key = createHash('sha256').update(code.replaceAll(c.dir, '<case>')).digest('hex');
    if (poolKeys.has(key)) continue;
    poolKeys.add(key);
    const copy = join(root, 'shellcheck', `${pool.size}-${basename(script)}`);
    writeFileSync(copy, text);
    pool.set(copy, label(c.p));
  }
}

async function shellcheck(files: string[]): Promise<string> {
  const r = await execa(process.env.SHELLCHECK_BIN ?? 'shellcheck', ['-s', 'sh', '-f', 'gcc', ...files], { reject: false });
  return r.stdout;
}

describe('no value from a config file can run a command', () => {
  it(`renders ${RUNS} fuzzed projects: each is refused, or its scripts run nothing injected`, { timeout: 3_600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzProject(canary), async (p) => {
        await checkCase(p);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: RUNS > 1000 },
    );
    expect(stats.accepted, 'too few renders were accepted to prove anything').toBeGreaterThan(RUNS / 5);
    expect(stats.refused, 'no render was refused: the fuzzing is too tame').toBeGreaterThan(RUNS / 10);
  });

  it('every distinct rendered script passes shellcheck', { timeout: 3_600_000 }, async () => {
    expect(pool.size).toBeGreaterThan(0);
    const files = [...pool.keys()];
    const batches: string[][] = [];
    for (let i = 0; i < files.length; i += 16) batches.push(files.slice(i, i + 16));
    const findings: string[] = [];
    for (let i = 0; i < batches.length; i += 2) {
      const outs = await Promise.all(batches.slice(i, i + 2).map(shellcheck));
      for (const o of outs) if (o) findings.push(o);
    }
    const report = findings
      .join('\n')
      .split('\n')
      .filter(Boolean)
      .map((line) => `${line}\n    from mutations ${pool.get(line.split(':')[0]!) ?? '?'}`);
    expect(report.slice(0, 20).join('\n')).toBe('');
  });

  it.skipIf(!isRoot)(
    `applies a sample of ${NETNS_SAMPLE} accepted projects for real in a network namespace`,
    { timeout: 600_000 },
    async () => {
      expect(kept.length).toBeGreaterThan(0);
      for (const k of kept) {
        const ns = `gfws-${randomBytes(4).toString('hex')}`;
        await execa('ip', ['netns', 'add', ns]);
        try {
          const runDir = join(k.dir, 'run');
          const manifest = JSON.parse(readFileSync(join(k.dir, 'out/manifest.json'), 'utf8')) as { install_dir: string };
          const init = join(k.dir, 'out/rootfs', manifest.install_dir, 'iptables-init');
          const r = await execa('ip', ['netns', 'exec', ns, 'sh', init], { cwd: runDir, reject: false });
          expect(r.exitCode, `iptables-init in ${ns}: ${r.stderr}; mutations ${k.label}`).toBe(0);
          expect(existsSync(canary), `iptables-init created the canary; mutations ${k.label}`).toBe(false);
          expect(readdirSync(runDir)).toEqual([]);
          // The kernel holds the comments and log prefixes byte for byte, fuzzed text included.
          for (const family of [4, 6] as const) {
            const dump = (await execa('ip', ['netns', 'exec', ns, family === 4 ? 'iptables-save' : 'ip6tables-save'])).stdout;
            const rules = [...k.ruleset.base.sections, ...k.ruleset.fragments.flatMap((f) => f.sections)]
              .flatMap((s) => s.rules)
              .filter((r) => r.family === family);
            for (const option of ['--comment', '--log-prefix']) {
              const want = rules.flatMap((r) => r.args.filter((_, i) => r.args[i - 1] === option)).sort();
              expect(optionValues(dump, option).sort(), `IPv${family} ${option}; mutations ${k.label}`).toEqual(want);
            }
          }
        } finally {
          await execa('ip', ['netns', 'del', ns], { reject: false });
        }
      }
    },
  );
});
