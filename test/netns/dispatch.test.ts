import { readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, type Check, type Verdict } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

// Twenty services and a few that overlap them, enough for the port dispatch (more than 8
// services with inbound rules per family). Names decide the order: m-, n-, r- before s..
const services = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i < 20; i++) {
    const p = 21000 + 10 * i;
    out[`s${String(i).padStart(2, '0')}.yaml`] = `rules:
  - { direction: in, proto: tcp, dport: ${p} }
  - { direction: in, proto: tcp, dport: ${p + 1}, source: 192.0.2.2 }
${i % 2 === 0 ? `  - { direction: in, proto: udp, dport: ${p + 2} }\n` : ''}`;
  }
  out['m-block.yaml'] = 'rules:\n  - { direction: in, proto: tcp, dport: 21050, source: 192.0.2.100, action: reject }\n';
  out['n-all.yaml'] = 'rules:\n  - { direction: in, proto: all, source: 192.0.2.100 }\n';
  out['r-range.yaml'] = 'rules:\n  - { direction: in, proto: tcp, dport: "21030:21039", source: 192.0.2.2, action: reject }\n';
  out['z-late.yaml'] = 'rules:\n  - { direction: in, proto: tcp, dport: 21000, source: 192.0.2.100, action: reject }\n';
  return out;
};

describe('inbound port dispatch: the same verdicts as the list of jumps, in fragment order', () => {
  let b: Bench;
  let project: Project;
  const confD = () => join(project.sbin, 'iptables_conf.d');
  const prebuilt = () => join(project.sbin, 'iptables-init.prebuilt');
  const apply = () => b.exec(b.host, 'sh', [project.init], { reject: false });

  // What the config says, probe by probe (final: reject, so nothing waits for a timeout).
  const expected: [Check, Verdict][] = [];
  const tcp4 = (port: number, source: string, v: Verdict) => expected.push([{ proto: 'tcp', host: '192.0.2.1', port, source }, v]);
  tcp4(21000, '192.0.2.2', 'open'); // s00, open to all
  tcp4(21001, '192.0.2.2', 'open'); // s00, for .2
  tcp4(21191, '192.0.2.2', 'open'); // s19, for .2: the last service
  tcp4(21030, '192.0.2.2', 'refused'); // r-range comes before s03
  tcp4(21050, '192.0.2.2', 'open'); // m-block is for .100 only
  tcp4(21050, '192.0.2.100', 'refused'); // m-block, before n-all
  tcp4(21011, '192.0.2.100', 'open'); // n-all: .100 may use any port
  tcp4(29999, '192.0.2.100', 'open'); // n-all, on a port no service names
  tcp4(29999, '192.0.2.2', 'refused'); // final: reject
  tcp4(21000, '192.0.2.100', 'open'); // z-late comes after n-all: never reached
  tcp4(21060, '192.0.2.2', 'open'); // s06
  expected.push([{ proto: 'udp', host: '192.0.2.1', port: 21002, source: '192.0.2.2' }, 'open']);
  expected.push([{ proto: 'udp', host: '192.0.2.1', port: 21012, source: '192.0.2.2' }, 'refused']);
  expected.push([{ proto: 'tcp', host: '2001:db8::1', port: 21000, source: '2001:db8::2' }, 'open']);
  expected.push([{ proto: 'tcp', host: '2001:db8::1', port: 21001, source: '2001:db8::2' }, 'refused']); // .2 is IPv4 only
  expected.push([{ proto: 'tcp', host: '2001:db8::1', port: 21190, source: '2001:db8::2' }, 'open']);

  const verdicts = () =>
    b.check(
      b.peer,
      expected.map(([c]) => c),
    );
  const ruleset = async () => (await b.iptablesSave(4)) + (await b.iptablesSave(6));

  beforeAll(async () => {
    b = await Bench.create();
    project = makeProject({ host: 'final: reject\nssh: { rate_limit: false }\n', services: services() });
    await render(project);
    const ports = [...new Set(expected.map(([c]) => `${c.proto}:${c.port}`))];
    await b.serve(b.host, ports);
  });
  afterAll(async () => {
    await b?.cleanup();
    project?.cleanup();
  });

  it('applies the pre-built form with a port tree in both families, and the kernel gives the verdicts the config says', async () => {
    const r = await apply();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('not as rendered');
    for (const family of [4, 6] as const) {
      const dump = await b.iptablesSave(family);
      expect(dump).toContain('-A GFW-INPUT-RULES -m comment --comment "gen-fw: services, by protocol and port" -j GFW-I-PORTS');
      expect(dump).toContain('-A GFW-I-PORTS -p tcp -g GFW-I-TCP');
      expect(dump).not.toMatch(/-A GFW-INPUT-RULES .*-j GFW-I-s\d\d/);
    }
    expect(await verdicts()).toEqual(expected.map(([, v]) => v));
  });

  it('without the pre-built file, captures every fragment: a list of jumps, the tree chains removed, the same verdicts', async () => {
    renameSync(prebuilt(), prebuilt() + '.away');
    try {
      const r = await apply();
      expect(r.exitCode, r.stderr).toBe(0);
      const dump = await ruleset();
      expect(dump).not.toContain('GFW-I-PORTS');
      expect(dump).not.toContain('GFW-I-TCP');
      expect(dump).toContain('-A GFW-INPUT-RULES -p tcp -m tcp --dport 21190:21191 -m comment --comment s19 -j GFW-I-s19');
      expect(await verdicts()).toEqual(expected.map(([, v]) => v));
    } finally {
      renameSync(prebuilt() + '.away', prebuilt());
    }
  });

  it('keeps name order with a hand-written fragment between generated ones (and says why it does not use the tree)', async () => {
    const hand = join(confD(), 'iptables_s055-hand.sh');
    writeFileSync(hand, 'iptables -A INPUT -p tcp --dport 21060 -j REJECT --reject-with tcp-reset\n');
    try {
      const r = await apply();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('iptables_conf.d is not as rendered');
      expect(await ruleset()).not.toContain('GFW-I-PORTS');
      // The hand-written reject sorts before s06, which opens 21060.
      const want = expected.map(([c, v]) => (c.port === 21060 ? 'refused' : v));
      expect(await verdicts()).toEqual(want);
    } finally {
      rmSync(hand);
    }
  });

  it('uses the tree with a hand-written fragment sorting before all generated ones, whose rule comes first', async () => {
    const hand = join(confD(), 'iptables_0-hand.sh');
    writeFileSync(hand, '#!/bin/sh\n# by hand\niptables -A INPUT -p tcp --dport 21060 -j REJECT --reject-with tcp-reset\n');
    try {
      const r = await apply();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('not as rendered');
      const dump = await b.iptablesSave(4);
      expect(dump).toContain('GFW-I-PORTS');
      const lines = dump.split('\n').filter((l) => l.startsWith('-A GFW-INPUT-RULES'));
      expect(lines).toEqual([
        '-A GFW-INPUT-RULES -p tcp -m tcp --dport 21060 -j REJECT --reject-with tcp-reset',
        '-A GFW-INPUT-RULES -m comment --comment "gen-fw: services, by protocol and port" -j GFW-I-PORTS',
      ]);
      expect(await verdicts()).toEqual(expected.map(([c, v]) => (c.port === 21060 ? 'refused' : v)));
    } finally {
      rmSync(hand);
    }
  });

  it('runs a generated fragment that was edited as it now is', async () => {
    const s19 = join(confD(), 'iptables_s19.sh');
    const before = readFileSync(s19, 'utf8');
    // An operator closes s19's port for everyone, by hand, in gen-fw's own fragment.
    appendFileSync(s19, 'iptables -I GFW-I-s19 -p tcp --dport 21191 -j REJECT --reject-with tcp-reset\n');
    try {
      const r = await apply();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('iptables_conf.d is not as rendered');
      expect(await verdicts()).toEqual(expected.map(([c, v]) => (c.port === 21191 ? 'refused' : v)));
    } finally {
      writeFileSync(s19, before);
    }
    // Back as rendered: the tree again.
    expect((await apply()).exitCode).toBe(0);
    expect(await b.iptablesSave(4)).toContain('GFW-I-PORTS');
  });
});
