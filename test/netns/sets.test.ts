import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

// 5,000 addresses from 10.0.0.0/8 (never routed here), plus one of the peer's addresses.
const blocklist = [
  '# bad actors, one a line',
  ...Array.from({ length: 5000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`),
  '192.0.2.100',
  '2001:db8::100',
].join('\n');

describe('a 5,000-address blocklist and a long source list, through ipsets', () => {
  let bench: Bench;
  let project: Project;

  beforeAll(async () => {
    bench = await Bench.create();
    project = makeProject({
      host: 'deny: { source: ["@blocklist"] }\nsets: { blocklist: { file: lists/blocklist.txt } }\nssh: { rate_limit: false }\n',
      files: { 'lists/blocklist.txt': blocklist },
      services: {
        'web.yaml': `rules:\n  - { direction: in, proto: tcp, dport: 80, source: [${Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}`).join(', ')}] }\n`,
      },
    });
    await render(project);
    await bench.exec(bench.host, 'sh', [project.init, '--save']);
    await bench.serve(bench.host, ['tcp:22', 'tcp:80']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  it('drops a listed address before SSH, and lets an unlisted one in', async () => {
    const v = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4b }, // listed
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6b }, // listed
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4 },
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6 },
    ]);
    expect(v).toEqual(['filtered', 'filtered', 'open', 'open']);
  });

  it('matches a list of more than 16 sources through a set', async () => {
    const v = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 80, source: '198.51.100.2' },
      { proto: 'tcp', host: bench.hostV4, port: 80, source: bench.peerV4 },
    ]);
    expect(v).toEqual(['open', 'filtered']);
  });

  it('holds a handful of rules, and every address in the set', async () => {
    const rules = (await bench.iptablesSave(4)).split('\n').filter((l) => l.startsWith('-A '));
    expect(rules.length).toBeLessThan(40);
    const list = await bench.exec(bench.host, 'ipset', ['list', 'gfw-blocklist-v4']);
    const members = list.stdout.split('Members:\n')[1]!.trim().split('\n');
    expect(members).toHaveLength(5001);
    expect(members).toContain('10.19.135.7');
    expect(members).toContain('192.0.2.100');
  });

  it('keeps the sets in place across a re-apply, and saves them', async () => {
    expect((await bench.exec(bench.host, 'sh', [project.init], { reject: false })).exitCode).toBe(0);
    const names = (await bench.exec(bench.host, 'ipset', ['list', '-n'])).stdout.split('\n').sort();
    expect(names.filter((n) => n.startsWith('gfw-tmp'))).toEqual([]);
    expect(names).toContain('gfw-blocklist-v6');
    const saved = readFileSync(`/etc/netns/${bench.host}/iptables/ipsets`, 'utf8');
    expect(saved).toMatch(/^create gfw-blocklist-v4 hash:net family inet/m);
    expect(saved).toContain('add gfw-blocklist-v4 10.0.0.7');
  });
});
