import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The --try timer under test: long enough that no apply, however slow the machine, can
 * outlast it. Each test waits for the events themselves (the apply returning, the
 * rollback, the timer process ending), so the only fixed time is this one.
 */
const TRY = 20;
/** How long after the timer is due the rollback may take: a loaded machine is slow, not stuck. */
const LATE = 60_000;
const testTimeout = (TRY * 1000 + LATE) * 2;

describe('iptables-init --try', () => {
  let bench: Bench;
  let project: Project;
  let scratch: string;
  const extra = () => join(project.sbin, 'iptables_conf.d', 'iptables_zz-try.sh');
  const rules = async () => [rulesOf(await bench.iptablesSave(4)), rulesOf(await bench.iptablesSave(6))];
  const trialRule = '-A GFW-INPUT-RULES -p tcp -m tcp --dport 8080 -j ACCEPT';

  /** The pids of the --try timers waiting in the bench's host namespace. */
  const timers = () => {
    const ns = `net:[${statSync(`/run/netns/${bench.host}`).ino}]`;
    return readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return (
            readlinkSync(`/proc/${pid}/ns/net`) === ns &&
            readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--rollback-after')
          );
        } catch {
          return false; // gone meanwhile
        }
      });
  };
  /** The timer of a --try is running; then wait until it has done its work and ended. */
  const timerEnds = async () => {
    expect(timers(), 'the --try timer should be waiting').toHaveLength(1);
    await waitFor(() => timers().length === 0, { what: `the --try timer to end (due after ${TRY} s)`, timeoutMs: TRY * 1000 + LATE });
  };

  beforeAll(async () => {
    bench = await Bench.create();
    scratch = mkdtempSync(join(tmpdir(), 'gen-fw-try-'));
    project = makeProject({ services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' } });
    await render(project);
    await bench.exec(bench.host, 'sh', [project.init]);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'puts the previous ruleset back after the timeout when unconfirmed, even when the shell that started it is killed',
    { timeout: testTimeout },
    async () => {
      const before = await rules();
      expect(before[0]).not.toContain(trialRule);
      writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
      const returned = join(scratch, 'try-returned');
      try {
        // A session that runs --try and then hangs, like an SSH session; it says when the
        // apply has returned, and is then killed outright, its whole process group.
        const shell = execa(
          'ip',
          ['netns', 'exec', bench.host, 'sh', '-c', `sh ${project.init} --try ${TRY} </dev/null; echo $? > ${returned}; sleep 600`],
          {
            reject: false,
            stdio: 'ignore',
            detached: true,
          },
        );
        const status = await waitFor(() => existsSync(returned) && readFileSync(returned, 'utf8').trim(), {
          what: `iptables-init --try ${TRY} to return`,
        });
        expect(status).toBe('0');
        const during = await rules();
        expect(during[0]).toContain(trialRule);
        process.kill(-shell.pid!, 'SIGKILL');
        await shell;
        // The timer outlives the session and puts the previous ruleset back when it is due.
        expect(timers(), 'the --try timer should outlive the killed session').toHaveLength(1);
        await waitFor(
          async () => {
            expect(await rules()).toEqual(before);
            return true;
          },
          { what: 'the rollback to the ruleset from before the --try', timeoutMs: TRY * 1000 + LATE },
        );
        await waitFor(() => timers().length === 0, { what: 'the --try timer to end after its rollback' });
        expect(await rules()).toEqual(before);
      } finally {
        rmSync(extra(), { force: true });
      }
    },
  );

  it('lets a plain apply replace a pending --try, whose timer then changes nothing', { timeout: testTimeout }, async () => {
    writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      await bench.exec(bench.host, 'sh', [project.init, '--try', String(TRY)], { input: '' });
      expect((await rules())[0]).toContain(trialRule);
      const plain = await bench.exec(bench.host, 'sh', [project.init], { input: '' });
      expect(plain.stderr).toContain('replaces a pending --try');
      const applied = await rules();
      expect(applied[0]).toContain(trialRule);
      await timerEnds();
      expect(await rules()).toEqual(applied);
    } finally {
      rmSync(extra(), { force: true });
      await bench.exec(bench.host, 'sh', [project.init]);
    }
  });

  it('keeps the new ruleset when confirmed', { timeout: testTimeout }, async () => {
    writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      const r = await bench.exec(bench.host, 'sh', [project.init, '--try', String(TRY)], { input: '' });
      expect(r.stderr).toContain('--confirm');
      const applied = await rules();
      expect(applied[0]).toContain(trialRule);
      expect((await bench.exec(bench.host, 'sh', [project.init, '--confirm'])).exitCode).toBe(0);
      await timerEnds();
      expect(await rules()).toEqual(applied);
      const again = await bench.exec(bench.host, 'sh', [project.init, '--confirm'], { reject: false });
      expect(again.exitCode).toBe(1);
    } finally {
      rmSync(extra(), { force: true });
    }
  });
});

describe('the legacy iptables backend', () => {
  let bench: Bench;
  let project: Project;
  let legacyBin: string;

  beforeAll(async () => {
    // iptables-legacy first in PATH, as on an older distribution.
    legacyBin = mkdtempSync(join(tmpdir(), 'gen-fw-legacy-'));
    for (const fam of ['iptables', 'ip6tables']) {
      for (const suffix of ['', '-save', '-restore']) symlinkSync(`/usr/sbin/${fam}-legacy${suffix}`, join(legacyBin, `${fam}${suffix}`));
    }
    bench = await Bench.create();
    project = makeProject({ services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80, source: 192.0.2.2 }\n' } });
    await render(project);
    const env = { PATH: `${legacyBin}:${process.env.PATH}` };
    await bench.exec(bench.host, 'sh', [project.init], { env });
    await bench.exec(bench.host, 'sh', [project.init], { env });
    await bench.serve(bench.host, ['tcp:22', 'tcp:80', 'tcp:8080']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
    rmSync(legacyBin, { recursive: true, force: true });
  });

  it('loads the rules into the legacy tables only, never mixing the two', async () => {
    const legacy = (await bench.exec(bench.host, 'iptables-legacy-save')).stdout;
    expect(legacy).toMatch(/^:INPUT DROP/m);
    expect(rulesOf(legacy).filter((l) => l === '-A INPUT -j GFW-INPUT')).toHaveLength(1);
    const nft = (await bench.exec(bench.host, 'iptables-nft-save')).stdout;
    expect(nft).not.toContain('GFW-');
  });

  it('gives the same verdicts on real connections', async () => {
    const v = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 22 },
      { proto: 'tcp', host: bench.hostV6, port: 22 },
      { proto: 'tcp', host: bench.hostV4, port: 80, source: bench.peerV4 },
      { proto: 'tcp', host: bench.hostV4, port: 80, source: bench.peerV4b },
      { proto: 'tcp', host: bench.hostV4, port: 8080 },
    ]);
    expect(v).toEqual(['open', 'open', 'open', 'filtered', 'filtered']);
  });
});
