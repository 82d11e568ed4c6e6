import { CHAIN } from '../model/chains.js';
import type { IpSet, IptRule, Ruleset } from '../model/types.js';
import type { Family } from '../validate/values.js';

/** Where a rule came from: a service's rule (by index), a base rule (by name), the dispatch, or a built-in jump. */
export type Origin =
  | { kind: 'service'; service: string; file: string; /** Undefined for the jump into the service's chain. */ index?: number }
  | { kind: 'base'; name: string }
  | { kind: 'dispatch' }
  | { kind: 'jump' };

export interface ChainRule {
  args: string[];
  origin: Origin;
}

export interface Chain {
  name: string;
  /** Built-in chains only. */
  policy?: 'ACCEPT' | 'DROP';
  rules: ChainRule[];
}

/** One family's filter table (and raw table) as the kernel holds it after iptables-init: chains in rule order. */
export interface FamilyTable {
  family: Family;
  chains: Map<string, Chain>;
  /** The raw table, walked before the filter table: empty unless a service has a notrack rule. */
  raw: Map<string, Chain>;
  sets: Map<string, IpSet>;
}

const BUILT_IN = ['INPUT', 'FORWARD', 'OUTPUT'] as const;
const RAW_BUILT_IN = ['PREROUTING', 'OUTPUT'] as const;

function baseName(args: readonly string[]): string {
  const i = args.indexOf('--comment');
  const c = i >= 0 ? (args[i + 1] ?? '') : '';
  return c.startsWith('gen-fw: ') ? c.slice('gen-fw: '.length) : c;
}

/**
 * The model's filter table of one family in the order iptables-init loads it: policies, the
 * jumps from the built-in chains, the base rules, then each fragment's rules in name order
 * (in a family with a port dispatch, the dispatch instead of the fragments' own jumps).
 */
export function assembleChains(ruleset: Ruleset, family: Family): FamilyTable {
  const chains = new Map<string, Chain>();
  const raw = new Map<string, Chain>();
  const chain = (name: string, table: 'filter' | 'raw' = 'filter'): Chain => {
    const m = table === 'raw' ? raw : chains;
    let c = m.get(name);
    if (!c) m.set(name, (c = { name, rules: [] }));
    return c;
  };
  for (const name of BUILT_IN) chain(name);
  if (ruleset.base.chains.some((c) => c.family === family && c.table === 'raw')) {
    // The raw table's built-in chains accept: CT --notrack only marks the packet.
    for (const name of RAW_BUILT_IN) chain(name, 'raw').policy = 'ACCEPT';
  }
  for (const p of ruleset.base.policies) if (p.family === family) chain(p.chain).policy = p.policy;
  for (const c of ruleset.base.chains) if (c.family === family && (c.table === 'filter' || c.table === 'raw')) chain(c.name, c.table);
  for (const j of ruleset.base.jumps)
    if (j.family === family && j.table === 'raw') chain(j.from, 'raw').rules.push({ args: ['-j', j.to], origin: { kind: 'jump' } });
  // iptables-init inserts each jump at the top; Docker keeps its DOCKER-USER jump first in FORWARD.
  const jumps = ruleset.base.jumps.filter((j) => j.family === family && j.table === 'filter');
  for (const j of [...jumps].reverse()) {
    if (j.to === CHAIN.dockerUser) continue;
    chain(j.from).rules.push({ args: ['-j', j.to], origin: { kind: 'jump' } });
  }
  for (const j of jumps) if (j.to === CHAIN.dockerUser) chain(j.from).rules.unshift({ args: ['-j', j.to], origin: { kind: 'jump' } });

  const add = (r: IptRule, origin: Origin) => {
    if (r.family === family && (r.table === 'filter' || r.table === 'raw')) chain(r.chain, r.table).rules.push({ args: r.args, origin });
  };
  for (const s of ruleset.base.sections) for (const r of s.rules) add(r, { kind: 'base', name: baseName(r.args) });
  const dispatched = ruleset.dispatch.some((d) => d.family === family);
  for (const f of ruleset.fragments) {
    for (const s of f.sections) {
      const m = /^rules\[(\d+)\]/.exec(s.title);
      for (const r of s.rules) {
        if (r.chain === CHAIN.inputRules && dispatched) continue;
        add(r, { kind: 'service', service: f.service, file: f.file, index: m ? Number(m[1]) : undefined });
      }
    }
  }
  for (const d of ruleset.dispatch) {
    if (d.family !== family) continue;
    for (const c of d.chains) chain(c);
    for (const r of d.rules) add(r, { kind: 'dispatch' });
  }
  const sets = new Map(ruleset.sets.filter((s) => s.family === family).map((s) => [s.name, s]));
  return { family, chains, raw, sets };
}
