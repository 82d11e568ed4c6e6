import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathsOf, lintFragment } from '../../src/lint/paths.js';
import { loadConfig } from '../../src/load/load-config.js';
import { compileRuleset } from '../../src/model/compile-ruleset.js';
import { CHAIN } from '../../src/model/chains.js';
import { mayMeet } from '../../src/model/notrack-fast-path.js';
import type { Ruleset } from '../../src/model/types.js';
import { makeProject, type Project } from '../helpers/render.js';

/**
 * The notrack fast path, decided at compile time: a notrack accept is copied to
 * GFW-INPUT-UNTRACKED (after the deny list) only when nothing it would overtake can meet
 * its packets with another outcome; the untracked replies' jump moves up only when no
 * reply can go to the metadata address.
 */
const projects: Project[] = [];
afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup();
});

async function compile(services: Record<string, string>, host?: string): Promise<Ruleset> {
  const p = makeProject({ host, services });
  projects.push(p);
  const { config } = await loadConfig({
    config: host === undefined ? undefined : join(p.dir, 'gen-fw.yaml'),
    confD: join(p.dir, 'conf.d'),
  });
  return compileRuleset(config);
}

const NOTRACK = 'rules:\n  - { direction: in, proto: tcp, dport: 5300, source: [192.0.2.0/28, "2001:db8::/120"], notrack: true }\n';
const hoisted = (r: Ruleset) =>
  r.fragments.flatMap((f) => f.sections.flatMap((s) => s.rules)).filter((x) => x.chain === CHAIN.inputUntracked);
const titleOf = (r: Ruleset, service: string) => r.fragments.find((f) => f.service === service)!.sections[0]!.title;
const jumpsTo = (r: Ruleset, chain: string, from: string) =>
  r.base.sections.flatMap((s) => s.rules).filter((x) => x.chain === from && x.args[x.args.length - 1] === chain);

describe('the notrack fast path', () => {
  it('hoists a notrack accept nothing can overtake, both families, with its own matches and --ctstate UNTRACKED', async () => {
    const r = await compile({ 'dns.yaml': NOTRACK });
    expect(hoisted(r).map((x) => `${x.family} ${x.args.join(' ')}`)).toEqual([
      '4 -s 192.0.2.0/28 -p tcp --dport 5300 -m conntrack --ctstate UNTRACKED -m comment --comment dns -j ACCEPT',
      '6 -s 2001:db8::/120 -p tcp --dport 5300 -m conntrack --ctstate UNTRACKED -m comment --comment dns -j ACCEPT',
    ]);
    expect(titleOf(r, 'dns')).toMatch(/fast path: accepted in GFW-INPUT-UNTRACKED/);
    // The jump sits after the deny list and the established accept, before the services.
    const input = r.base.sections.flatMap((s) => s.rules).filter((x) => x.chain === CHAIN.input && x.family === 4);
    const at = (tag: string) => input.findIndex((x) => x.args.includes(`gen-fw: ${tag}`));
    expect(at('untracked')).toBe(at('established') + 1);
    expect(at('untracked')).toBeLessThan(at('services'));
    expect(r.base.chains.filter((c) => c.name === CHAIN.inputUntracked)).toHaveLength(2);
  });

  it('keeps the in-place layout when an earlier service drops on the same port, and says why', async () => {
    const r = await compile({
      'aaa.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 5300, source: 192.0.2.5, action: drop }\n',
      'dns.yaml': NOTRACK,
    });
    expect(hoisted(r)).toEqual([]);
    expect(jumpsTo(r, CHAIN.inputUntracked, CHAIN.input)).toEqual([]);
    expect(r.base.chains.some((c) => c.name === CHAIN.inputUntracked)).toBe(false);
    expect(titleOf(r, 'dns')).toMatch(/no fast path .*aaa's rules\[0\] \(drop\) may meet its packets first/);
  });

  it('hoists past an earlier drop on another port, or a later one on the same port', async () => {
    const r = await compile({
      'aaa.yaml':
        'rules:\n  - { direction: in, proto: tcp, dport: 5301, action: drop }\n  - { direction: in, proto: udp, dport: 5300, action: reject }\n',
      'dns.yaml': NOTRACK,
      'zzz.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 5300, action: drop }\n',
    });
    expect(hoisted(r)).toHaveLength(2);
  });

  it('does not overtake a log, an audit, a rate limit, a proto: all drop, or its own earlier drop', async () => {
    const cases: [string, string][] = [
      ['log', 'rules:\n  - { direction: in, proto: tcp, dport: 5300, log: true }\n'],
      ['audit', 'rules:\n  - { direction: in, proto: tcp, dport: 5300, action: drop, audit: true }\n'],
      ['rate_limit', 'rules:\n  - { direction: in, proto: tcp, dport: 5300, rate_limit: { hits: 5, seconds: 60 } }\n'],
      ['drop', 'rules:\n  - { direction: in, proto: all, source: 192.0.2.9, action: drop }\n'],
    ];
    for (const [why, aaa] of cases) {
      const r = await compile({ 'aaa.yaml': aaa, 'dns.yaml': NOTRACK });
      expect(hoisted(r), why).toEqual([]);
      expect(titleOf(r, 'dns'), why).toMatch(new RegExp(`aaa's rules\\[0\\] \\(.*${why}`));
    }
    const own = await compile({
      'dns.yaml':
        'rules:\n  - { direction: in, proto: tcp, dport: 5300, source: 192.0.2.3, action: drop }\n' + NOTRACK.replace('rules:\n', ''),
    });
    expect(hoisted(own)).toEqual([]);
    expect(own.fragments[0]!.sections[1]!.title).toMatch(/its own rules\[0\] \(drop\)/);
  });

  it('in mode: audit, an earlier drop is a logged accept: still not overtaken', async () => {
    const r = await compile(
      { 'aaa.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 5300, action: drop }\n', 'dns.yaml': NOTRACK },
      'mode: audit\n',
    );
    expect(hoisted(r)).toEqual([]);
    const clean = await compile({ 'dns.yaml': NOTRACK }, 'mode: audit\n');
    expect(hoisted(clean)).toHaveLength(2);
  });

  it('lets the replies out before the metadata block only in families where no reply can go to the metadata address', async () => {
    const output = (r: Ruleset, family: 4 | 6) => {
      const rules = r.base.sections.flatMap((s) => s.rules).filter((x) => x.chain === CHAIN.output && x.family === family);
      const at = (tag: string) => rules.findIndex((x) => x.args.includes(`gen-fw: ${tag}`));
      return at('untracked replies') < at('metadata for others') ? 'early' : 'late';
    };
    const narrow = await compile({ 'dns.yaml': NOTRACK });
    expect([output(narrow, 4), output(narrow, 6)]).toEqual(['early', 'early']);
    const linkLocal = await compile({
      'dns.yaml': NOTRACK + '  - { direction: in, proto: udp, dport: 5301, source: [169.254.0.0/16], notrack: true }\n',
    });
    expect([output(linkLocal, 4), output(linkLocal, 6)]).toEqual(['late', 'early']);
    const anywhere = await compile({ 'dns.yaml': 'rules:\n  - { direction: in, proto: udp, dport: 53, notrack: true }\n' });
    expect([output(anywhere, 4), output(anywhere, 6)]).toEqual(['late', 'late']);
  });

  it("lint's inbound path holds the hoisted accept where the kernel meets it: after the deny list, before the services", async () => {
    const r = await compile({ 'dns.yaml': NOTRACK });
    const path = [...pathsOf({ base: r.base, fragments: r.fragments.map(lintFragment) })].find(
      (p) => p.family === 4 && p.direction === 'in',
    )!;
    const where = path.rules.map((x) => (x.origin.kind === 'base' ? x.origin.tag : `${x.rule.chain}`));
    expect(where.indexOf(CHAIN.inputUntracked)).toBe(where.indexOf('established') + 1);
    expect(where.indexOf(CHAIN.inputUntracked)).toBeLessThan(where.indexOf('GFW-I-dns'));
    expect(where).not.toContain('untracked');
  });

  it('reads only what provably excludes a packet', () => {
    const p = { family: 4 as const, proto: 'tcp' as const, dport: [{ from: 5300, to: 5300 }], src: ['192.0.2.0/28'] };
    expect(mayMeet(['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'], p)).toBe(false);
    expect(mayMeet(['-p', 'udp', '-j', 'DROP'], p)).toBe(false);
    expect(mayMeet(['-p', 'tcp', '--dport', '22', '-j', 'DROP'], p)).toBe(false);
    expect(mayMeet(['-s', '198.51.100.0/24', '-j', 'DROP'], p)).toBe(false);
    expect(mayMeet(['-s', '192.0.2.0/24', '-j', 'DROP'], p)).toBe(true);
    expect(mayMeet(['!', '-p', 'udp', '-j', 'DROP'], p)).toBe(true);
    expect(mayMeet(['-m', 'set', '--match-set', 'x', 'src', '-j', 'DROP'], p)).toBe(true);
  });
});
