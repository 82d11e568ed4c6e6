import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

describe('iptables-init applies atomically and idempotently', () => {
  let bench: Bench;
  let project: Project;
  const fragment = (name: string) => join(project.sbin, 'iptables_conf.d', name);
  const apply = (...args: string[]) => bench.exec(bench.host, 'sh', [project.init, ...args], { reject: false });
  const both = async () => [rulesOf(await bench.iptablesSave(4)), rulesOf(await bench.iptablesSave(6))];

  beforeAll(async () => {
    bench = await Bench.create();
    // Without the SSH rate limit: these tests connect to port 22 more than 4 times a minute.
    project = makeProject({
      host: 'ssh: { rate_limit: false }\n',
      services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' },
    });
    await render(project);
    await bench.serve(bench.host, ['tcp:22', 'tcp:80', 'tcp:8080', 'tcp:8081']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  it('--dry-run prints the payloads and changes nothing', async () => {
    const before = await both();
    const r = await apply('--dry-run');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(':INPUT DROP [0:0]');
    expect(r.stdout).toContain('-I INPUT 1 -j GFW-INPUT');
    expect(r.stdout).toContain('# from iptables_web.sh');
    expect(await both()).toEqual(before);
  });

  it('--dry-run runs fragments in a scratch namespace: a stray real iptables call is refused and changes nothing live', async () => {
    const before = await both();
    writeFileSync(fragment('iptables_zz-stray.sh'), 'command iptables -I INPUT -p tcp --dport 8081 -j ACCEPT\n');
    try {
      const r = await apply('--dry-run');
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('iptables_zz-stray.sh: ran iptables directly');
      expect(await both()).toEqual(before);
    } finally {
      rmSync(fragment('iptables_zz-stray.sh'));
    }
  });

  it('leaves the same ruleset when applied twice', async () => {
    expect((await apply()).exitCode).toBe(0);
    const first = await both();
    expect((await apply()).exitCode).toBe(0);
    expect(await both()).toEqual(first);
    expect(first[0]!.filter((l) => l === '-A INPUT -j GFW-INPUT')).toHaveLength(1);
  });

  it('does not load a ruleset the kernel accepted before into a scratch namespace again, and validates any change', async () => {
    const before = 'the kernel accepted this ruleset in a scratch namespace before';
    expect((await apply()).exitCode).toBe(0);
    expect((await apply()).stdout).toContain(before);
    writeFileSync(
      fragment('iptables_zz-new.sh'),
      `iptables -A INPUT -p tcp --dport 8082 -s 198.51.100.${Math.floor(Math.random() * 250) + 1} -j ACCEPT\n`,
    );
    try {
      const changed = await apply();
      expect(changed.exitCode).toBe(0);
      expect(changed.stdout).not.toContain(before);
      expect((await apply()).stdout).toContain(before);
    } finally {
      rmSync(fragment('iptables_zz-new.sh'));
    }
  });

  it('exits 3 and changes nothing when the validation itself dies (not a verdict on the ruleset)', async () => {
    expect((await apply()).exitCode).toBe(0);
    const before = await both();
    // A new ruleset (so the scratch validation runs), and an iptables-restore, first on
    // the caller's PATH, that kills the shell running it: the validation dies mid-way.
    writeFileSync(
      fragment('iptables_zz-killed.sh'),
      `iptables -A INPUT -p tcp --dport 8083 -s 198.51.100.${Math.floor(Math.random() * 250) + 1} -j ACCEPT\n`,
    );
    const wrap = join(project.dir, 'wrap');
    mkdirSync(wrap, { recursive: true });
    writeFileSync(
      join(wrap, 'iptables-restore'),
      '#!/bin/sh\ncase " $* " in *" --version "*) exec /usr/sbin/iptables-restore "$@" ;; esac\nkill -9 $PPID\nexit 1\n',
      { mode: 0o755 },
    );
    try {
      const r = await bench.exec(bench.host, 'sh', ['-c', `PATH=${wrap}:$PATH sh ${project.init}`], { reject: false });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain('the validation in a scratch namespace failed (exit 137); nothing was changed');
      expect(await both()).toEqual(before);
    } finally {
      rmSync(fragment('iptables_zz-killed.sh'));
    }
  });

  it('applies a hand-written Tao of Ops fragment like a generated one', async () => {
    writeFileSync(fragment('iptables_zz-hand.sh'), '# hand-written\niptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    try {
      expect((await apply()).exitCode).toBe(0);
      const v = await bench.check(bench.peer, [
        { proto: 'tcp', host: bench.hostV4, port: 8080 },
        { proto: 'tcp', host: bench.hostV6, port: 8080 },
      ]);
      expect(v).toEqual(['open', 'filtered']);
    } finally {
      rmSync(fragment('iptables_zz-hand.sh'));
    }
  });

  it.each([
    ['a jump to a missing chain', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\niptables -A INPUT -j NO-SUCH-CHAIN\n'],
    ['an IPv6-only mistake', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\nip6tables -A INPUT -p tcp --dport 99999 -j ACCEPT\n'],
    [
      'a bad rule in the nat table',
      'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\niptables -t nat -A POSTROUTING -j NO-SUCH-TARGET-X\n',
    ],
    ['a policy in a fragment', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\niptables -P INPUT ACCEPT\n'],
    ['iptables called by its full path', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\n/usr/sbin/iptables -A INPUT -j ACCEPT\n'],
    ['a failing shell command', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\nfalse\n'],
    ['a chain that belongs to Docker', 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\niptables -N DOCKER\n'],
    [
      'iptables run through `command`',
      'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\ncommand iptables -I INPUT -p tcp --dport 8081 -j ACCEPT\n',
    ],
    [
      'an exit in a fragment that says it is generated',
      '#!/bin/sh\n# Generated by gen-fw 0.0.0: edited by hand\niptables -A INPUT -p tcp --dport 8081 -j ACCEPT\nexit 0\n',
    ],
  ])('refuses a fragment with %s and leaves the ruleset exactly as it was', async (_what, text) => {
    expect((await apply()).exitCode).toBe(0);
    const before = await both();
    writeFileSync(fragment('iptables_zz-bad.sh'), text);
    try {
      const r = await apply();
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('iptables_zz-bad.sh');
      expect(await both()).toEqual(before);
      const v = await bench.check(bench.peer, [
        { proto: 'tcp', host: bench.hostV4, port: 22 },
        { proto: 'tcp', host: bench.hostV4, port: 8081 },
      ]);
      expect(v).toEqual(['open', 'filtered']);
    } finally {
      rmSync(fragment('iptables_zz-bad.sh'));
    }
  });

  it("never flushes or deletes other tools' chains and jumps", async () => {
    await bench.sh(
      bench.host,
      'iptables -N DOCKER && iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && iptables -I FORWARD 1 -j DOCKER-USER && ' +
        'iptables -A FORWARD -o docker0 -j DOCKER && iptables -t nat -N KUBE-SERVICES && iptables -t nat -I PREROUTING 1 -j KUBE-SERVICES && ' +
        'ip6tables -N KUBE-FIREWALL && ip6tables -I INPUT 1 -j KUBE-FIREWALL',
    );
    expect((await apply()).exitCode).toBe(0);
    expect((await apply()).exitCode).toBe(0);
    const [v4, v6] = await both();
    for (const line of [
      ':DOCKER - [0:0]',
      '-A DOCKER-USER -j RETURN',
      '-A FORWARD -j DOCKER-USER',
      '-A FORWARD -o docker0 -j DOCKER',
      '-A PREROUTING -j KUBE-SERVICES',
    ]) {
      expect(v4).toContain(line);
    }
    expect(v6).toContain('-A INPUT -j KUBE-FIREWALL');
  });

  it('removes the chains and jumps of a fragment that is gone, and only those', async () => {
    writeFileSync(fragment('iptables_zz-nat.sh'), 'iptables -t nat -A POSTROUTING -o eth9 -j MASQUERADE\n');
    expect((await apply()).exitCode).toBe(0);
    let [v4] = await both();
    expect(v4).toContain('-A POSTROUTING -j GFW-POSTROUTING');
    expect(v4).toContain('-A GFW-POSTROUTING -o eth9 -j MASQUERADE');
    rmSync(fragment('iptables_zz-nat.sh'));
    expect((await apply()).exitCode).toBe(0);
    [v4] = await both();
    expect(v4!.join('\n')).not.toContain('GFW-POSTROUTING');
    expect(v4).toContain('-A PREROUTING -j KUBE-SERVICES');
  });

  it("--save writes rules.v4 and rules.v6 without other tools' chains", async () => {
    expect((await apply('--save')).exitCode).toBe(0);
    const saved4 = readFileSync(`/etc/netns/${bench.host}/iptables/rules.v4`, 'utf8');
    const saved6 = readFileSync(`/etc/netns/${bench.host}/iptables/rules.v6`, 'utf8');
    expect(saved4).toContain(':INPUT DROP [0:0]');
    expect(saved4).toContain('-A INPUT -j GFW-INPUT');
    expect(saved4).not.toContain('DOCKER');
    expect(saved4).not.toContain('KUBE-');
    expect(saved6).toContain('-A GFW-INPUT -i lo');
    expect(saved6).not.toContain('KUBE-FIREWALL');
  });
});
