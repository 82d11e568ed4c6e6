import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/load/load-config.js';
import { CHAIN } from '../../src/model/chains.js';
import { compileRuleset, compileRulesetStream } from '../../src/model/compile-ruleset.js';
import type { Ruleset } from '../../src/model/types.js';
import type { Config } from '../../src/validate/validate-config.js';
import { DISPATCH_ORIGIN, PrebuiltRecords, restoreWord } from '../../src/render/prebuilt.js';

/** Services of varied shapes; some IPv4 only, so that one family can have a dispatch and the other not. */
function serviceYaml(i: number, ipv6: boolean): string {
  const shapes = [
    `  - { direction: in, proto: tcp, dport: [${20000 + i}, "${30000 + i}:${30001 + i}"], comment: "web ${i}" }`,
    `  - { direction: in, proto: udp, dport: ${40000 + i}, source: 198.51.100.${i}/32 }`,
    `  - { direction: in, proto: icmp, source: 192.0.2.0/24 }\n  - { direction: out, proto: tcp, dport: 443 }`,
    `  - { direction: in, proto: all, source: "${ipv6 ? `2001:db8::${i}` : `203.0.113.${i}`}" }`,
    `  - { direction: in, proto: tcp, dport: ${21000 + i}, rate_limit: { hits: 4, seconds: 60 }, log: true }`,
  ];
  return `description: service ${i}\nrules:\n${shapes[i % shapes.length]}\n`;
}

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), 'gen-fw-prebuilt-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function configOf(services: number, host = ''): Promise<Config> {
  const dir = join(tmp, `p${services}-${host.length}`);
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'gen-fw.yaml'), host);
  for (let i = 0; i < services; i++)
    writeFileSync(join(dir, 'conf.d', `s${String(i).padStart(3, '0')}.yaml`), serviceYaml(i, !host.includes('ipv6: false')));
  return (await loadConfig({ config: join(dir, 'gen-fw.yaml'), confD: join(dir, 'conf.d') })).config;
}

/** What iptables-init's capture writes, written out plainly from the whole ruleset (the form before records were collected as they come). */
function expectedRecords(ruleset: Ruleset): string[] {
  const dispatched = new Set(ruleset.dispatch.map((d) => d.family));
  const line = (r: { family: number; table: string; chain: string; args: string[] }, from: string) =>
    `R ${r.family} ${r.table} ${from} -A ${r.chain}${r.args.map((a) => ' ' + restoreWord(a)).join('')}`;
  const out: string[] = [];
  for (const f of ruleset.fragments) {
    for (const s of f.sections) {
      for (const r of s.rules)
        if (!(r.chain === CHAIN.inputRules && dispatched.has(r.family))) out.push(line(r, `iptables_${f.service}.sh`));
    }
  }
  for (const d of ruleset.dispatch) {
    for (const c of d.chains) out.push(`N ${d.family} filter ${c}`);
    for (const r of d.rules) out.push(line(r, DISPATCH_ORIGIN));
  }
  return out;
}

const cases: [string, number, string][] = [
  ['no dispatch (few services)', 4, ''],
  ['a dispatch in both families', 30, ''],
  ['a dispatch in IPv4 only (IPv6 keeps its jumps)', 14, ''],
  ['IPv4 only', 30, 'ipv6: false\n'],
];

describe('the pre-built records, collected one fragment at a time', () => {
  it.each(cases)('are the capture of the whole ruleset: %s', async (_name, services, host) => {
    const config = await configOf(services, host);
    const whole = compileRuleset(config);
    const stream = compileRulesetStream(config);
    const records = new PrebuiltRecords();
    for (const f of stream.fragments) records.add(f, `iptables_${f.service}.sh`);
    const got = records.finish(stream.dispatch());
    expect(got.dispatched).toBe(whole.dispatch.length > 0);
    // An entry may hold several records (a run of one fragment's), one a line.
    expect(got.records.join('\n').split('\n')).toEqual(expectedRecords(whole));
    expect(got.records.every((r) => r !== '' && !r.startsWith('\n') && !r.endsWith('\n'))).toBe(true);
  });

  it('has cases that exercise what they claim', async () => {
    const families = async (n: number, host: string) => compileRuleset(await configOf(n, host)).dispatch.map((d) => d.family);
    expect(await families(4, '')).toEqual([]);
    expect(await families(30, '')).toEqual([4, 6]);
    expect(await families(14, '')).toEqual([4]);
    expect(await families(30, 'ipv6: false\n')).toEqual([4]);
  });
});

describe('the ruleset compiled one fragment at a time', () => {
  it('is the ruleset compiled at once', async () => {
    const config = await configOf(30, '');
    const stream = compileRulesetStream(config);
    const fragments = [...stream.fragments];
    expect({ fragments, ...stream.rest(), dispatch: stream.dispatch() }).toEqual(compileRuleset(config));
  });

  it('gives nothing that depends on every fragment before the last one is compiled', async () => {
    const stream = compileRulesetStream(await configOf(4, ''));
    expect(() => stream.rest()).toThrow(/not complete/);
    const it = stream.fragments[Symbol.iterator]();
    it.next();
    expect(() => stream.dispatch()).toThrow(/not complete/);
  });
});
