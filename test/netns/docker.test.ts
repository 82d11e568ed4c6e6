import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShellCheck } from '../check/run-check.js';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

/** The rules dockerd writes for one container publishing 8080 -> 80, as it does at boot, after us. */
const DOCKERD_RULES = [
  'iptables -t nat -N DOCKER',
  'iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
  'iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
  'iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
  'iptables -t nat -A DOCKER -i docker0 -j RETURN',
  'iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
  'iptables -N DOCKER',
  'iptables -N DOCKER-USER || true',
  'iptables -C FORWARD -j DOCKER-USER || iptables -I FORWARD -j DOCKER-USER',
  'iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  'iptables -A FORWARD -o docker0 -j DOCKER',
  'iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
  'iptables -A FORWARD -i docker0 -o docker0 -j ACCEPT',
  'iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
].join(' && ');

describe('a Docker host built in namespaces', () => {
  let bench: Bench;
  let project: Project;
  const container = `gfwt-c-${process.pid}-${Date.now() % 100000}`;
  const apply = () => bench.exec(bench.host, 'sh', [project.init]);
  const dockerLines = async () =>
    rulesOf(await bench.iptablesSave(4)).filter((l) => /DOCKER(?!-USER)|docker0|MASQUERADE/.test(l) && !l.includes('gen-fw'));

  beforeAll(async () => {
    bench = await Bench.create();
    await execa('ip', ['netns', 'add', container]);
    // docker0 in the host namespace, one container behind it.
    await bench.sh(
      bench.host,
      `ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up && ` +
        `ip link add vc${process.pid % 10000} type veth peer name ceth0 && ip link set ceth0 netns ${container} && ` +
        `ip link set vc${process.pid % 10000} master docker0 up && sysctl -qw net.ipv4.ip_forward=1`,
    );
    await execa('ip', [
      'netns',
      'exec',
      container,
      'sh',
      '-c',
      'ip link set lo up && ip addr add 172.17.0.2/16 dev ceth0 && ip link set ceth0 up && ip route add default via 172.17.0.1',
    ]);
    // The metadata address lives in the peer namespace.
    await bench.sh(bench.peer, 'ip addr add 169.254.169.254/32 dev lo');
    await bench.sh(bench.host, `ip route add 169.254.169.254/32 via ${bench.peerV4}`);
    project = makeProject({
      host: 'docker: { enabled: true }\n',
      services: {
        'app.yaml': `description: the app container, published on 8080\nrules:\n  - { direction: docker, proto: tcp, dport: 8080, source: ${bench.peerV4} }\n`,
      },
    });
    await render(project);
    await apply();
    await bench.sh(bench.host, DOCKERD_RULES);
    await bench.serve(container, ['tcp:80']);
    await bench.serve(bench.peer, ['tcp:9000', 'tcp:80']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    await execa('ip', ['netns', 'del', container], { reject: false });
    project?.cleanup();
  });

  const provesEverything = async () => {
    const published = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 8080, source: bench.peerV4 },
      { proto: 'tcp', host: bench.hostV4, port: 8080, source: bench.peerV4b },
    ]);
    expect(published).toEqual(['open', 'filtered']);
    const fromContainer = await bench.check(container, [
      { proto: 'tcp', host: bench.peerV4, port: 9000 },
      { proto: 'tcp', host: '169.254.169.254', port: 80 },
    ]);
    expect(fromContainer).toEqual(['open', 'filtered']);
  };

  it('publishes the port to the allowed source only; the container reaches out but not the metadata service', provesEverything);

  it("keeps all of that, and Docker's rules, after a re-apply", async () => {
    const before = await dockerLines();
    expect(before.length).toBeGreaterThan(8);
    await apply();
    await apply();
    expect(await dockerLines()).toEqual(before);
    const forward = rulesOf(await bench.iptablesSave(4)).filter((l) => l.startsWith('-A FORWARD'));
    expect(forward.filter((l) => l === '-A FORWARD -j DOCKER-USER')).toHaveLength(1);
    // With Docker support, FORWARD's one jump of ours is to DOCKER-USER; GFW-FORWARD is entered from there.
    expect(forward.filter((l) => l.includes('GFW-'))).toEqual([]);
    // No terminal drop of ours in FORWARD hides Docker's appended rules.
    expect(forward.some((l) => / -j (DROP|REJECT|GFW-DROP)$/.test(l))).toBe(false);
    await provesEverything();
  });

  it("saves without Docker's rules in the built-in chains, and the drift check is in sync with them live", async () => {
    await bench.exec(bench.host, 'sh', [project.init, '--save']);
    const saved = readFileSync(`/etc/netns/${bench.host}/iptables/rules.v4`, 'utf8').split('\n');
    expect(saved).toContain('-A FORWARD -j DOCKER-USER');
    expect(saved).toContain('-A DOCKER-USER -i docker0 -m comment --comment "gen-fw: docker containers" -j RETURN');
    expect(saved.filter((l) => /MASQUERADE|docker0/.test(l) && !l.startsWith('-A DOCKER-USER '))).toEqual([]);
    // A stub logger: a drift found here must not reach the machine's syslog.
    const stubs = mkdtempSync(join(tmpdir(), 'gen-fw-docker-stubs-'));
    try {
      writeFileSync(join(stubs, 'logger'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(stubs, 'logger'), 0o755);
      const env = { PATH: `${stubs}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
      const check = () => bench.exec(bench.host, 'sh', [join(project.sbin, 'iptables-check'), '--no-textfile'], { reject: false, env });
      const inSync = await check();
      expect(inSync.exitCode, inSync.stdout + inSync.stderr).toBe(0);
      expect(inSync.stdout).toMatch(/^IPv4: in sync \(\d+ rules\)$/m);
      // Not blind to FORWARD: a rule of someone else's on another interface is drift.
      await bench.sh(bench.host, 'iptables -A FORWARD -i eth1 -j ACCEPT');
      const drift = await check();
      await bench.sh(bench.host, 'iptables -D FORWARD -i eth1 -j ACCEPT');
      expect(drift.exitCode, drift.stdout + drift.stderr).toBe(1);
      expect(drift.stdout).toContain('  filter FORWARD: + -A FORWARD -i eth1 -j ACCEPT');
    } finally {
      rmSync(stubs, { recursive: true, force: true });
    }
  });

  it("takes its rules out of DOCKER-USER when Docker is turned off, and leaves Docker's chain", async () => {
    writeFileSync(join(project.dir, 'gen-fw.yaml'), 'docker: { enabled: false }\n');
    rmSync(join(project.dir, 'conf.d', 'app.yaml'));
    await render(project);
    await apply();
    const v4 = rulesOf(await bench.iptablesSave(4));
    expect(v4).toContain(':DOCKER-USER - [0:0]');
    expect(v4.filter((l) => l.startsWith('-A DOCKER-USER') && l.includes('gen-fw'))).toEqual([]);
    expect(v4.join('\n')).not.toContain('GFW-DOCKER-RULES');
    expect(v4.join('\n')).not.toContain('GFW-DOCKER-OUT');
    expect(v4).toContain('-A FORWARD -j DOCKER-USER');
    // Without Docker support, FORWARD jumps to GFW-FORWARD itself again.
    expect(v4.filter((l) => l === '-A FORWARD -j GFW-FORWARD')).toHaveLength(1);
    // Nothing of ours filters published ports any more: Docker's own rules decide.
    const published = await bench.check(bench.peer, [{ proto: 'tcp', host: bench.hostV4, port: 8080, source: bench.peerV4b }]);
    expect(published).toEqual(['open']);
  });
});

describe('mode audit on a Docker host: the forward path logs and passes on, Docker still decides', () => {
  let bench: Bench;
  let project: Project;
  const container = `gfwt-ca-${process.pid}-${Date.now() % 100000}`;
  const veth = `va${process.pid % 10000}`;
  // "Docker's isolation": a drop of Docker's own, after the jump to DOCKER-USER (FORWARD #1).
  const isolation = () => `-i docker0 -d ${bench.peerV4}/32 -p tcp -m tcp --dport 9000 -j DROP`;
  const counter = (dump: string, ...parts: string[]) => {
    const rules = dump.split('\n').filter((l) => parts.every((p) => l.includes(p)));
    if (rules.length !== 1) throw new Error(`${rules.length} rules contain ${parts.join(' … ')}:\n${dump}`);
    return Number(/^\[(\d+):/.exec(rules[0]!)?.[1]);
  };
  const save = async () => (await bench.exec(bench.host, 'iptables-save', ['-c'])).stdout;
  const toPeer = () => bench.check(container, [{ proto: 'tcp', host: bench.peerV4, port: 9000 }]);

  beforeAll(async () => {
    bench = await Bench.create();
    await execa('ip', ['netns', 'add', container]);
    await bench.sh(
      bench.host,
      `ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up && ` +
        `ip link add ${veth} type veth peer name ceth0 && ip link set ceth0 netns ${container} && ` +
        `ip link set ${veth} master docker0 up && sysctl -qw net.ipv4.ip_forward=1`,
    );
    await execa('ip', [
      'netns',
      'exec',
      container,
      'sh',
      '-c',
      'ip link set lo up && ip addr add 172.17.0.2/16 dev ceth0 && ip link set ceth0 up && ip route add default via 172.17.0.1',
    ]);
    // What enforce would refuse: the container's connections to the peer's port 9000.
    project = makeProject({
      host: 'mode: audit\ndocker: { enabled: true }\n',
      services: {
        'app.yaml': `rules:\n  - { direction: docker-out, proto: tcp, dport: 9000, destination: ${bench.peerV4}, action: reject }\n`,
      },
    });
    await render(project);
    await bench.exec(bench.host, 'sh', [project.init, '--save']);
    await bench.sh(bench.host, DOCKERD_RULES);
    await bench.serve(bench.peer, ['tcp:9000']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    await execa('ip', ['netns', 'del', container], { reject: false });
    project?.cleanup();
  });

  it("the docker-out reject is logged (GFW-AUDIT-PASS) and the packet goes on to Docker's own rules", async () => {
    const dump = await save();
    expect(dump).toContain(':FORWARD ACCEPT');
    expect(dump).toMatch(/-A GFW-DOCKER-OUT .*-i docker0 .*--dport 9000 .*-j GFW-AUDIT-PASS$/m);
    expect(dump).toMatch(/-A GFW-AUDIT-PASS .*FW-AUDIT: .*\n\[\d+:\d+\] -A GFW-AUDIT-PASS -j RETURN$/m);
    // Nothing of Docker's drops it: Docker's own accept lets it through, and it was logged on the way.
    const before = await save();
    expect(await toPeer()).toEqual(['open']);
    const after = await save();
    const app = (d: string) => counter(d, '-A GFW-DOCKER-OUT ', '-i docker0 ', '--dport 9000', '-j GFW-AUDIT-PASS');
    const logged = (d: string) => counter(d, '-A GFW-AUDIT-PASS ', 'FW-AUDIT: ');
    const docker = (d: string) => counter(d, '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT');
    expect(app(after) - app(before)).toBeGreaterThanOrEqual(1);
    expect(logged(after) - logged(before)).toBeGreaterThanOrEqual(1);
    expect(docker(after) - docker(before)).toBeGreaterThanOrEqual(1);
  });

  it("a drop of Docker's after the jump to DOCKER-USER still drops it (an accept of ours would have skipped it)", async () => {
    await bench.sh(bench.host, `iptables -I FORWARD 2 ${isolation()}`);
    try {
      const before = await save();
      expect(await toPeer()).toEqual(['filtered']);
      const after = await save();
      const app = (d: string) => counter(d, '-A GFW-DOCKER-OUT ', '-i docker0 ', '--dport 9000', '-j GFW-AUDIT-PASS');
      const dropped = (d: string) => counter(d, '-A FORWARD ', '--dport 9000', '-j DROP');
      expect(app(after) - app(before)).toBeGreaterThanOrEqual(1);
      expect(dropped(after) - dropped(before)).toBeGreaterThanOrEqual(1);
    } finally {
      await bench.sh(bench.host, `iptables -D FORWARD ${isolation()}`);
    }
    // iptables-check counts it as audited for the service (docker-out rules are counted too).
    const check = await runShellCheck(join(project.sbin, 'iptables-check'), [], { ns: bench.host });
    const line = check.metrics
      .split('\n')
      .find((l) => l.startsWith('gen_fw_audited_packets_total{ruleset="ipv4",reason="service",service="app"} '));
    expect(line, check.metrics + check.stdout + check.stderr).toBeDefined();
    expect(Number(line!.split(' ')[1])).toBeGreaterThanOrEqual(2);
  });
});
