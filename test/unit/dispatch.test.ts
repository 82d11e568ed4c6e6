import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDispatch, DISPATCH_MIN_SERVICES } from '../../src/model/compile-dispatch.js';
import { guardsOf, inboundChains, mergeRanges } from '../../src/model/compile-inbound.js';
import type { Dispatch, FragmentModel, IptRule } from '../../src/model/types.js';
import type { PortRange } from '../../src/validate/values.js';

type Proto = 'tcp' | 'udp' | 'icmp' | 'all';
interface InRule {
  proto: Proto;
  dport?: PortRange[];
}
interface Packet {
  proto: 'tcp' | 'udp' | 'icmp';
  port: number;
}

/** Does a rule (proto and destination port only) match the packet? What a service's chain would decide on. */
function ruleMatches(r: InRule, p: Packet): boolean {
  if (r.proto !== 'all' && r.proto !== p.proto) return false;
  return !r.dport || r.dport.some((d) => p.port >= d.from && p.port <= d.to);
}

/** Our own rule arguments, interpreted: -p, --dport, -m multiport --dports, -m comment, then -j or -g. */
function argsMatch(args: string[], p: Packet): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1] ?? '';
    if (a === '-p' && v !== p.proto) return false;
    if (a === '--dport' || a === '--dports') {
      const ok = v.split(',').some((s) => {
        const [from, to] = s.split(':').map(Number);
        return p.port >= from! && p.port <= (to ?? from)!;
      });
      if (!ok) return false;
    }
  }
  return true;
}

function target(args: string[]): { kind: '-j' | '-g'; chain: string } {
  const i = Math.max(args.lastIndexOf('-j'), args.lastIndexOf('-g'));
  return { kind: args[i] as '-j' | '-g', chain: args[i + 1]! };
}

/** The service chains a packet enters, in order, walking the dispatch from GFW-INPUT-RULES. */
function walkDispatch(d: Dispatch, p: Packet): string[] {
  const byChain = new Map<string, IptRule[]>();
  for (const r of d.rules) byChain.set(r.chain, [...(byChain.get(r.chain) ?? []), r]);
  const entered: string[] = [];
  const run = (chain: string, depth: number): void => {
    expect(depth).toBeLessThan(40);
    for (const r of byChain.get(chain) ?? []) {
      if (!argsMatch(r.args, p)) continue;
      const t = target(r.args);
      if (!byChain.has(t.chain) && !d.chains.includes(t.chain)) {
        entered.push(t.chain); // a service chain
        continue;
      }
      run(t.chain, depth + 1);
      if (t.kind === '-g') return;
    }
  };
  run('GFW-INPUT-RULES', 0);
  return entered;
}

const port = fc.integer({ min: 0, max: 65535 });
const range = fc.oneof(
  port.map((n) => ({ from: n, to: n })),
  fc.tuple(port, fc.integer({ min: 0, max: 3000 })).map(([a, w]) => ({ from: a, to: Math.min(65535, a + w) })),
);
const inRule: fc.Arbitrary<InRule> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      proto: fc.constantFrom('tcp', 'udp'),
      dport: fc.array(range, { minLength: 1, maxLength: 20 }),
    }) as fc.Arbitrary<InRule>,
  },
  { weight: 1, arbitrary: fc.record({ proto: fc.constantFrom<Proto>('tcp', 'udp', 'icmp', 'all') }) },
);
const services = fc.array(fc.array(inRule, { minLength: 1, maxLength: 4 }), { minLength: 0, maxLength: 60 });
const packet: fc.Arbitrary<Packet> = fc.record({ proto: fc.constantFrom('tcp', 'udp', 'icmp'), port });

function fragmentsOf(svcs: InRule[][]): FragmentModel[] {
  return svcs.map((rules, i) => {
    const service = `s${i}`;
    const inbound = inboundChains(
      service,
      rules.map((rule) => ({ rule, families: [4] })),
    );
    return { service, file: '', sha256: '', sections: [], inbound };
  });
}

describe('inbound guards and the port dispatch', () => {
  it('merges overlapping and adjacent port ranges', () => {
    expect(
      mergeRanges([
        { from: 10, to: 20 },
        { from: 5, to: 9 },
        { from: 22, to: 22 },
        { from: 21, to: 21 },
        { from: 30, to: 31 },
      ]),
    ).toEqual([
      { from: 5, to: 22 },
      { from: 30, to: 31 },
    ]);
  });

  it('gives a service one guard for all protocols as soon as one rule is proto: all', () => {
    expect(guardsOf([{ proto: 'tcp', dport: [{ from: 80, to: 80 }] }, { proto: 'all' }])).toEqual([{ proto: 'all' }]);
    expect(guardsOf([{ proto: 'tcp', dport: [{ from: 80, to: 80 }] }, { proto: 'tcp' }])).toEqual([{ proto: 'tcp' }]);
  });

  it('never skips a service whose rules could match: every guard covers its rules', () => {
    fc.assert(
      fc.property(fc.array(inRule, { minLength: 1, maxLength: 6 }), packet, (rules, p) => {
        const [chain] = inboundChains(
          'x',
          rules.map((rule) => ({ rule, families: [4] })),
        );
        const jumps = chain!.jumps.filter((j) => argsMatch(j.args, p));
        expect(jumps.length).toBeLessThanOrEqual(1); // disjoint: a packet enters at most once
        if (rules.some((r) => ruleMatches(r, p))) expect(jumps).toHaveLength(1);
      }),
      { numRuns: 500 },
    );
  });

  it('leads every packet, in fragment order, into each service whose rules could match it, and into no service twice', () => {
    fc.assert(
      fc.property(services, fc.array(packet, { minLength: 1, maxLength: 20 }), (svcs, packets) => {
        const fragments = fragmentsOf(svcs);
        const [d] = compileDispatch(fragments);
        const withChains = fragments.filter((f) => f.inbound.length > 0).length;
        expect(d !== undefined).toBe(withChains > DISPATCH_MIN_SERVICES);
        if (!d) return;
        for (const p of packets) {
          // The linear list of jumps enters these (a guard may be wider than its rules: > 15 ports).
          const linear = fragments.flatMap((f) =>
            f.inbound
              .flatMap((c) => c.jumps)
              .filter((j) => argsMatch(j.args, p))
              .map((j) => target(j.args).chain),
          );
          const must = svcs.flatMap((rules, i) => (rules.some((r) => ruleMatches(r, p)) ? [`GFW-I-s${i}`] : []));
          const walked = walkDispatch(d, p);
          expect(walked.filter((c) => linear.includes(c))).toEqual(walked); // only what the list enters...
          expect(linear.filter((c) => walked.includes(c))).toEqual(walked); // ...in the list's order, each once
          expect(must.filter((c) => !walked.includes(c))).toEqual([]); // and never one whose rules match
        }
      }),
      { numRuns: 200 },
    );
  });

  it('walks a few chains, not every service, to reach one of 200', () => {
    const svcs: InRule[][] = Array.from({ length: 200 }, (_, i) => [
      { proto: 'tcp', dport: [{ from: 20000 + 3 * i, to: 20001 + 3 * i }] },
      { proto: 'tcp', dport: [{ from: 20002 + 3 * i, to: 20002 + 3 * i }] },
    ]);
    const [d] = compileDispatch(fragmentsOf(svcs));
    const byChain = new Map<string, number>();
    for (const r of d!.rules) byChain.set(r.chain, (byChain.get(r.chain) ?? 0) + 1);
    // The rules a SYN to the last service's port is compared with, at most: each chain on its path, whole.
    let chain = 'GFW-INPUT-RULES';
    let compared = 0;
    const p: Packet = { proto: 'tcp', port: 20000 + 3 * 199 + 2 };
    for (let hops = 0; hops < 20; hops++) {
      const rules = d!.rules.filter((r) => r.chain === chain);
      compared += rules.length;
      const next = rules.find((r) => argsMatch(r.args, p));
      if (!next || target(next.args).chain.startsWith('GFW-I-s')) break;
      chain = target(next.args).chain;
    }
    expect(compared).toBeLessThan(30);
    expect(walkDispatch(d!, p)).toEqual(['GFW-I-s199']);
  });
});
