import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

const NOBODY = 65534;

/**
 * The owner match of out rules (user, group), with real packets from processes running as
 * root and as nobody; and a user the host does not know, refused by the kernel's verdict
 * in iptables-init's scratch namespace (exit 2, the fragment and the rule named).
 */
describe('out rules with user: and group:', () => {
  let bench: Bench;
  const projects: Project[] = [];
  beforeAll(async () => {
    bench = await Bench.create();
    await bench.serve(bench.peer, ['tcp:9000', 'tcp:9001']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    for (const p of projects) p.cleanup();
  });

  const project = async (rules: string[]) => {
    const p = makeProject({ services: { 'sandbox.yaml': ['rules:', ...rules.map((r) => `  - ${r}`), ''].join('\n') } });
    projects.push(p);
    await render(p);
    return p;
  };

  it('user: nobody holds for nobody and not for root; group: nogroup likewise (by id)', async () => {
    const p = await project([
      `{ direction: out, user: nobody, proto: tcp, dport: 9000, action: reject }`,
      `{ direction: out, group: "${NOBODY}", proto: tcp, dport: 9001, action: reject }`,
      `{ direction: out, proto: tcp, dport: [9000, 9001], destination: ${bench.peerV4} }`,
    ]);
    await bench.exec(bench.host, 'sh', [p.init]);
    const probes = [
      { proto: 'tcp' as const, host: bench.peerV4, port: 9000 },
      { proto: 'tcp' as const, host: bench.peerV4, port: 9001 },
    ];
    expect(await bench.check(bench.host, probes), 'root').toEqual(['open', 'open']);
    expect(await bench.check(bench.host, probes, NOBODY), 'nobody (group nogroup)').toEqual(['refused', 'refused']);
  });

  it('a user the host does not know: iptables-init refuses the ruleset (exit 2), naming the fragment and the rule, and changes nothing', async () => {
    const before = await bench.iptablesSave(4);
    const p = await project([`{ direction: out, user: gfwt-no-such-user, proto: tcp, dport: 9000, action: reject }`]);
    const r = await bench.exec(bench.host, 'sh', [p.init], { reject: false });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/the failing rule \(line \d+, from iptables_sandbox\.sh\): .*--uid-owner gfwt-no-such-user/);
    const strip = (d: string) => d.split('\n').filter((l) => !l.startsWith('#'));
    expect(strip(await bench.iptablesSave(4))).toEqual(strip(before));
  });
});
