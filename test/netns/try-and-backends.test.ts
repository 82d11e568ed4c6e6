import { execa } from 'execa';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('iptables-init --try', () => {
  let bench: Bench;
  let project: Project;
  const extra = () => join(project.sbin, 'iptables_conf.d', 'iptables_zz-try.sh');
  const rules = async () => [rulesOf(await bench.iptablesSave(4)), rulesOf(await bench.iptablesSave(6))];

  beforeAll(async () => {
    bench = await Bench.create();
    project = makeProject({ services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' } });
    await render(project);
    await bench.exec(bench.host, 'sh', [project.init]);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  it('puts the previous ruleset back after the timeout when unconfirmed, even when the shell that started it is killed', async () => {
    const before = await rules();
    writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      // A shell that runs --try and then hangs, like an SSH session; kill it outright.
      const shell = execa('ip', ['netns', 'exec', bench.host, 'sh', '-c', `sh ${project.init} --try 2 </dev/null; sleep 15`], { reject: false, stdio: 'ignore' });
      await sleep(1200);
      const during = await rules();
      expect(during[0]).toContain('-A GFW-INPUT-RULES -p tcp -m tcp --dport 8080 -j ACCEPT');
      shell.kill('SIGKILL');
      await shell;
      await sleep(2500);
      expect(await rules()).toEqual(before);
    } finally {
      rmSync(extra(), { force: true });
    }
  });

  it('lets a plain apply replace a pending --try, whose timer then changes nothing', async () => {
    writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      await bench.exec(bench.host, 'sh', [project.init, '--try', '2'], { input: '' });
      const plain = await bench.exec(bench.host, 'sh', [project.init], { input: '' });
      expect(plain.stderr).toContain('replaces a pending --try');
      const applied = await rules();
      await sleep(2500);
      expect(await rules()).toEqual(applied);
      expect(applied[0]).toContain('-A GFW-INPUT-RULES -p tcp -m tcp --dport 8080 -j ACCEPT');
    } finally {
      rmSync(extra(), { force: true });
      await bench.exec(bench.host, 'sh', [project.init]);
    }
  });

  it('keeps the new ruleset when confirmed', async () => {
    writeFileSync(extra(), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      const r = await bench.exec(bench.host, 'sh', [project.init, '--try', '2'], { input: '' });
      expect(r.stderr).toContain('--confirm');
      const applied = await rules();
      expect((await bench.exec(bench.host, 'sh', [project.init, '--confirm'])).exitCode).toBe(0);
      await sleep(2500);
      expect(await rules()).toEqual(applied);
      expect(applied[0]).toContain('-A GFW-INPUT-RULES -p tcp -m tcp --dport 8080 -j ACCEPT');
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

