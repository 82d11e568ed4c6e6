import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../helpers/render.js';
import { comparableMetrics, renderCheckScript, runNodeCheck, runShellCheck } from './run-check.js';

/**
 * Issue 19.6 and 19.4, on the real system (root): a failing system is "cannot check" (2),
 * never drift (1) or a false "in sync"; and a saved state gen-fw never wrote (nothing
 * saved) cannot be checked, whatever is live.
 *
 * The full disk is a small tmpfs, mounted as TMPDIR in a private mount namespace
 * (unshare -m: it disappears with the process), filled up and then given back `free` KiB.
 */
const corpus = join(import.meta.dirname, 'corpus');
const fill = `
D=$1 free=$2; shift 2
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$D" || exit 99
dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null || :
[ "$free" = 0 ] || truncate -s -"$free"K "$D/fill" || exit 99
TMPDIR=$D exec "$@"
`;

describe('iptables-check on a full TMPDIR, and with nothing saved', () => {
  let project: Project;
  let script: string;
  let tmp: string;
  const ns = `gfwt-${randomBytes(4).toString('hex')}-f`;
  const inNs = (argv: string[]) => ['ip', 'netns', 'exec', ns, ...argv];

  beforeAll(async () => {
    ({ project, script } = await renderCheckScript());
    tmp = mkdtempSync(join(tmpdir(), 'gen-fw-faults-'));
    await execa('ip', ['netns', 'add', ns]);
    mkdirSync(`/etc/netns/${ns}/iptables`, { recursive: true });
  });
  afterAll(async () => {
    await execa('ip', ['netns', 'del', ns], { reject: false });
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
    project?.cleanup();
  });

  /** iptables-check with TMPDIR on a full tmpfs with `free` KiB left; its own textfile directory. */
  async function checkOnFullDisk(free: number, args: string[], opts: { shell?: string; ns?: boolean } = {}) {
    const mnt = mkdtempSync(join(tmp, 'tmpdir-'));
    const textfile = mkdtempSync(join(tmp, 'textfile-'));
    try {
      const argv = [
        'unshare',
        '-m',
        'sh',
        '-c',
        fill,
        'sh',
        mnt,
        String(free),
        opts.shell ?? 'sh',
        script,
        '--textfile-dir',
        textfile,
        ...args,
      ];
      const [cmd, ...rest] = opts.ns ? inNs(argv) : argv;
      const r = await execa(cmd as string, rest, { reject: false });
      expect(r.exitCode, `the tmpfs could not be set up: ${r.stderr}`).not.toBe(99);
      let metrics = '';
      try {
        metrics = readFileSync(join(textfile, 'iptables-check.prom'), 'utf8');
      } catch {
        /* none written */
      }
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, metrics, mnt };
    } finally {
      rmSync(textfile, { recursive: true, force: true });
    }
  }

  const files = (name: string) => ['--saved', join(corpus, name, 'saved'), '--live', join(corpus, name, 'live')];

  it.each(['sh', 'bash'])('a full TMPDIR is "cannot check" (2), naming the directory and the reason (%s)', async (shell) => {
    const r = await checkOnFullDisk(0, [...files('in-sync-v4'), '--no-cache'], { shell });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`iptables-check: cannot check: cannot write to ${r.mnt} (No space left on device)`);
    expect(r.stdout).toBe('');
    expect(comparableMetrics(r.metrics)).toEqual(['gen_fw_drift_check_success 0']);
  });

  it('iptables-save into a full TMPDIR is "cannot check" (2), not drift, and not blamed on iptables-save', async () => {
    await execa('ip', ['netns', 'exec', ns, 'iptables-restore'], { input: readFileSync(join(corpus, 'in-sync-v4', 'saved'), 'utf8') });
    const saved = join(tmp, 'rules.v4');
    writeFileSync(saved, (await execa('ip', ['netns', 'exec', ns, 'iptables-save'])).stdout + '\n');
    const args = ['--family', 'ipv4', '--saved', saved, '--no-cache'];
    // With room to work: in sync.
    const ok = await checkOnFullDisk(512, args, { ns: true });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^IPv4: in sync \(\d+ rules\)$/);
    const full = await checkOnFullDisk(0, args, { ns: true });
    expect(full.exitCode, full.stderr).toBe(2);
    expect(full.stderr).toContain(`cannot check: cannot write to ${full.mnt} (No space left on device)`);
    expect(full.stderr).not.toContain('cannot run iptables-save');
    await execa('ip', ['netns', 'exec', ns, 'iptables', '-F']);
    await execa('ip', ['netns', 'exec', ns, 'iptables', '-X']);
    await execa('ip', ['netns', 'exec', ns, 'iptables', '-P', 'INPUT', 'ACCEPT']);
    await execa('ip', ['netns', 'exec', ns, 'iptables', '-P', 'FORWARD', 'ACCEPT']);
    await execa('ip', ['netns', 'exec', ns, 'iptables', '-P', 'OUTPUT', 'ACCEPT']);
  });

  // From no room at all to enough: whatever step runs out of space, the answer is the right
  // verdict or "cannot check", never the wrong verdict.
  it.each([
    ['in-sync-v4', 0],
    ['rule-added', 1],
  ])('with any amount of room left, %s gives its verdict (%i) or "cannot check", nothing else', async (name, verdict) => {
    const want = readFileSync(join(corpus, name, 'expected'), 'utf8')
      .split(/^-- report\n/m)[1]
      ?.replace(/\n$/, '');
    const seen = new Set<number>();
    for (let free = 0; free <= 320; free += 16) {
      const r = await checkOnFullDisk(free, [...files(name), '--cache-dir', join(tmp, 'no-such-dir', 'cache')]);
      seen.add(r.exitCode ?? -1);
      if (r.exitCode === 2) {
        expect(r.stderr, `${free} KiB free`).toMatch(/^iptables-check: cannot check: /m);
        expect(r.stdout, `${free} KiB free`).toBe('');
        continue;
      }
      expect(r.exitCode, `${free} KiB free: ${r.stderr}`).toBe(verdict);
      expect(r.stdout, `${free} KiB free`).toBe(want);
    }
    expect([...seen].sort(), 'both answers were met in the sweep').toEqual([verdict, 2].sort());
  });

  it('nothing saved (0-byte rules.v4 and rules.v6) and nothing loaded: both checks say cannot check (2)', async () => {
    const etc = `/etc/netns/${ns}/iptables`;
    writeFileSync(join(etc, 'rules.v4'), '');
    writeFileSync(join(etc, 'rules.v6'), '');
    writeFileSync(join(etc, 'ipsets'), '');
    try {
      const shell = await runShellCheck(script, ['--no-cache'], { ns });
      const node = await runNodeCheck([], { ns });
      const v4 =
        'IPv4: cannot check: /etc/iptables/rules.v4: the saved IPv4 state has no gen-fw chains (filter:GFW-INPUT): was iptables-init --save ever run?';
      const v6 =
        'IPv6: cannot check: /etc/iptables/rules.v6: the saved IPv6 state has no gen-fw chains (filter:GFW-INPUT): was iptables-init --save ever run?';
      for (const [who, r] of [
        ['iptables-check', shell],
        ['gen-fw check', node],
      ] as const) {
        expect(r.exitCode, `${who}: ${r.stderr}`).toBe(2);
        expect(r.stderr, who).toContain(v4);
        expect(r.stderr, who).toContain(v6);
        expect(r.stdout, who).not.toMatch(/IPv[46]: in sync/);
        // An empty ipsets file is no sets, and that is in sync.
        expect(r.stdout, who).toContain('ipsets: in sync (0 members)');
        expect(comparableMetrics(r.metrics), who).toContain('gen_fw_drift_check_success 0');
      }
      expect(comparableMetrics(node.metrics)).toEqual(comparableMetrics(shell.metrics));
    } finally {
      for (const f of ['rules.v4', 'rules.v6', 'ipsets']) rmSync(join(etc, f), { force: true });
    }
  });
});
