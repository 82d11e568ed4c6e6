import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Project } from '../helpers/render.js';
import { renderCheckScript, runShellCheck, type CheckRun } from './run-check.js';

/**
 * iptables-check's fast path: a normalised live state found in sync is kept in the cache
 * directory under a key (the SHA-256 of the saved file and of the script, and the ignore
 * lists); while the live state normalises to exactly that, the check is done without sort
 * or diff. These tests run the script on dump files (no firewall is touched); `sort` and
 * `diff` stubs that fail prove which path a run took.
 */
const corpus = join(import.meta.dirname, 'corpus');
const CACHE_V4 = 'iptables-check.v4';

describe('iptables-check keeps what it found in sync, and never trusts it blindly', () => {
  let project: Project;
  let script: string;
  let tmp: string;
  let stubs: string;
  let cache: string;
  let saved: string;
  let live: string;

  const files = () => ['--saved', saved, '--live', live, '--cache-dir', cache];
  const check = (args: string[] = [], opts: { env?: Record<string, string>; shell?: string } = {}) =>
    runShellCheck(script, [...files(), ...args], opts);
  /** A run where sort and diff fail: only the fast path can answer (2 otherwise). */
  const checkWithoutSortOrDiff = (args: string[] = [], shell = 'sh') =>
    check(args, { shell, env: { PATH: `${stubs}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
  const expectInSync = (r: CheckRun) => {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('IPv4: in sync (31 rules)');
    expect(r.stderr).toBe('');
  };
  const cacheFiles = () => readdirSync(cache);

  beforeAll(async () => {
    ({ project, script } = await renderCheckScript());
    tmp = mkdtempSync(join(tmpdir(), 'gen-fw-check-cache-'));
    stubs = join(tmp, 'bin');
    mkdirSync(stubs);
    for (const name of ['sort', 'diff']) {
      writeFileSync(join(stubs, name), `#!/bin/sh\necho "${name}: must not run on the fast path" >&2\nexit 99\n`);
      chmodSync(join(stubs, name), 0o755);
    }
  });
  afterAll(() => {
    project?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    const dir = mkdtempSync(join(tmp, 'case-'));
    cache = join(dir, 'cache');
    saved = join(dir, 'saved');
    live = join(dir, 'live');
    copyFileSync(join(corpus, 'in-sync-v4/saved'), saved);
    copyFileSync(join(corpus, 'in-sync-v4/live'), live);
  });

  it('answers from the cache while in sync, without sort or diff (which the full comparison needs)', async () => {
    expectInSync(await check());
    expect(cacheFiles()).toEqual([CACHE_V4]);
    expect(readFileSync(join(cache, CACHE_V4), 'utf8')).toMatch(
      /^gen-fw iptables-check cache 1 script=[0-9a-f]{64} saved=[0-9a-f]{64} ignore=/,
    );
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    // dash reads the key line a byte at a time, bash reads ahead and seeks back: either way
    // cmp starts right after it.
    expectInSync(await checkWithoutSortOrDiff([], 'sh'));
    expectInSync(await checkWithoutSortOrDiff([], 'bash'));
    const full = await checkWithoutSortOrDiff(['--no-cache']);
    expect(full.exitCode).toBe(2);
  });

  it('writes no cache with --no-cache, nor on drift', async () => {
    expectInSync(await check(['--no-cache']));
    expect(existsSync(cache)).toBe(false);
    writeFileSync(live, readFileSync(live, 'utf8').replace('COMMIT', '-A GFW-INPUT-RULES -s 192.0.2.1/32 -j ACCEPT\nCOMMIT'));
    expect((await check()).exitCode).toBe(1);
    expect(existsSync(join(cache, CACHE_V4))).toBe(false);
  });

  it('finds drift in the live state with a cache of the in-sync state at hand', async () => {
    expectInSync(await check());
    writeFileSync(live, readFileSync(live, 'utf8').replace('COMMIT', '-A GFW-INPUT-RULES -s 192.0.2.1/32 -j ACCEPT\nCOMMIT'));
    const r = await check();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('  filter GFW-INPUT-RULES: + -A GFW-INPUT-RULES -s 192.0.2.1/32 -j ACCEPT');
  });

  it('compares in full when the saved file is replaced by one of the same size and times', async () => {
    expectInSync(await check());
    const before = statSync(saved);
    const text = readFileSync(saved, 'utf8');
    const changed = text.replace('--dport 9100', '--dport 9101');
    expect(changed).not.toBe(text);
    expect(changed.length).toBe(text.length);
    writeFileSync(saved, changed);
    utimesSync(saved, before.atime, before.mtime);
    const r = await check();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('--dport 9101');
    expect(r.stdout).toContain('--dport 9100');
  });

  it('keys the cache on the ignore lists too: a chain left out once counts the next time', async () => {
    // The saved state has fail2ban's chain, the live one has not: in sync while f2b-* is
    // ignored, a chain removed when it is not, though the live state normalises the same.
    copyFileSync(join(corpus, 'custom-ignore-fail2ban/live'), saved);
    copyFileSync(join(corpus, 'custom-ignore-fail2ban/saved'), live);
    expect((await check(['--ignore-chain', 'f2b-*'])).exitCode).toBe(0);
    expect(cacheFiles()).toEqual([CACHE_V4]);
    const r = await check(['--ignore-chain', 'DOCKER*']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('filter f2b-sshd: chain removed');
  });

  it('compares in full, and mends the cache, when it is corrupt or truncated', async () => {
    expectInSync(await check());
    const good = readFileSync(join(cache, CACHE_V4), 'utf8');
    for (const bad of ['', 'garbage\n', good.slice(0, good.length - 40), good.replace(/\n[^\n]*\n$/, '\n')]) {
      writeFileSync(join(cache, CACHE_V4), bad);
      expectInSync(await check());
      expect(readFileSync(join(cache, CACHE_V4), 'utf8')).toBe(good);
    }
  });

  it('does not trust a cache that another user could have written', async () => {
    expectInSync(await check());
    // A forged cache: the right key, and the live state of a drifted host as if in sync.
    const forged = join(cache, CACHE_V4);
    writeFileSync(live, readFileSync(live, 'utf8').replace('COMMIT', '-A GFW-INPUT-RULES -s 192.0.2.1/32 -j ACCEPT\nCOMMIT'));
    const key = readFileSync(forged, 'utf8').split('\n')[0];
    const body = await normalisedLive();
    writeFileSync(forged, `${key}\n${body}`);
    // Owned by the user running the check, it is what the check itself would have written:
    expect((await check()).exitCode).toBe(0);
    writeFileSync(forged, `${key}\n${body}`);
    chownSync(forged, 65534, 65534);
    expect((await check()).exitCode).toBe(1);
  });

  /** What iptables-check writes after the key line for the current `live` file. */
  async function normalisedLive(): Promise<string> {
    const scratch = mkdtempSync(join(tmp, 'scratch-'));
    writeFileSync(join(scratch, 'saved'), readFileSync(live));
    const r = await runShellCheck(script, ['--saved', join(scratch, 'saved'), '--live', live, '--cache-dir', join(scratch, 'c')]);
    expect(r.exitCode).toBe(0);
    return readFileSync(join(scratch, 'c', CACHE_V4), 'utf8').replace(/^[^\n]*\n/, '');
  }

  it('works the same when the cache directory cannot be used', async () => {
    const notADir = join(tmp, 'not-a-directory');
    writeFileSync(notADir, '');
    const others = mkdtempSync(join(tmp, 'others-'));
    chownSync(others, 65534, 65534);
    for (const dir of [notADir, join(tmp, 'no-such-parent', 'cache'), others]) {
      const r = await runShellCheck(script, ['--saved', saved, '--live', live, '--cache-dir', dir]);
      expectInSync(r);
    }
    expect(readdirSync(others)).toEqual([]);
    // An unwritable cache never hides drift either.
    writeFileSync(live, readFileSync(live, 'utf8').replace('COMMIT', '-A GFW-INPUT-RULES -s 192.0.2.1/32 -j ACCEPT\nCOMMIT'));
    expect((await runShellCheck(script, ['--saved', saved, '--live', live, '--cache-dir', others])).exitCode).toBe(1);
  });
});

describe("iptables-check reading iptables-save's output as it comes", () => {
  let project: Project;
  let script: string;
  let tmp: string;

  beforeAll(async () => {
    ({ project, script } = await renderCheckScript());
    tmp = mkdtempSync(join(tmpdir(), 'gen-fw-check-pipe-'));
    mkdirSync(join(tmp, 'bin'));
  });
  afterAll(() => {
    project?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('names the bad line of a dump that it stopped reading early, not a broken pipe', async () => {
    // More than a pipe holds, so that the save is still writing when awk gives up.
    const stub = join(tmp, 'bin', 'iptables-save');
    writeFileSync(
      stub,
      '#!/bin/sh\necho "this is not a dump"\ni=0\nwhile [ $i -lt 100000 ]; do echo "-A INPUT -j ACCEPT"; i=$((i + 1)); done\n',
    );
    chmodSync(stub, 0o755);
    const r = await runShellCheck(script, ['--saved', join(corpus, 'in-sync-v4/saved'), '--no-cache'], {
      env: { PATH: `${join(tmp, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('IPv4: cannot check: iptables-save:1: not a table, chain or rule line of iptables-save');
  });
});
