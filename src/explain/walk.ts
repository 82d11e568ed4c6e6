import { CHAIN, RULE_AUDIT_SUFFIX } from '../model/chains.js';
import type { ChainRule, FamilyTable, Origin } from './assemble-chains.js';
import { matchRule, targetOf } from './match-rule.js';
import type { Packet } from './packet.js';

export type Verdict = 'accept' | 'drop' | 'reject';

/** One rule the packet met on its way (it matched, or it was a rate limit the packet was under). */
export interface Step {
  chain: string;
  /** 1-based position in the chain, as `iptables -L --line-numbers` counts; 0 for a policy. */
  position: number;
  args: string[];
  origin: Origin | { kind: 'policy' } | { kind: 'docker' } | { kind: 'end' };
  /** What happened: a jump, a goto, a verdict, a log line, a rate limit not reached, ... */
  effect: string;
  underLimit?: { hits: number; seconds: number };
}

export interface Explanation {
  packet: Packet;
  verdict: Verdict;
  /** Each rule that matched, in the order the packet met them (verdict last). */
  steps: Step[];
  /** The rule that decided: the last step outside the shared drop/reject chains. */
  decided: Step;
  /** A rate limit on the way that a first connection is under: "accepted until N per S". */
  limit?: { hits: number; seconds: number };
  /** Accepted by mode audit (GFW-AUDIT): enforce mode would have dropped or rejected it. */
  audit?: true;
}

/** Our shared log-and-drop and reject chains: the rule that jumped there decided. */
const VERDICT_CHAINS = new Set<string>([CHAIN.drop, CHAIN.reject, CHAIN.audit]);

/** A rule's `audit: true` (its counting rule, its LOG): no verdict, the packet goes on. */
function isAuditLog(args: readonly string[]): boolean {
  const i = args.indexOf('--log-prefix');
  return i >= 0 && (args[i + 1] ?? '').endsWith(RULE_AUDIT_SUFFIX);
}

const HOOK = { in: 'INPUT', out: 'OUTPUT', forward: 'FORWARD', docker: 'FORWARD', 'docker-out': 'FORWARD' } as const;

type Outcome = { verdict: Verdict } | { back: true };

/**
 * Walk the packet through one family's filter table as netfilter does: from the built-in
 * chain of its hook, rule by rule; a jump comes back when its chain runs out or returns, a
 * goto returns to the chain that called the current one, a built-in chain that runs out
 * applies its policy.
 */
export function walkPacket(table: FamilyTable, packet: Packet): Explanation {
  const steps: Step[] = [];
  const step = (chain: string, i: number, r: ChainRule, effect: string, underLimit?: Step['underLimit']) =>
    steps.push({ chain, position: i + 1, args: r.args, origin: r.origin, effect, underLimit });

  const run = (name: string, depth: number): Outcome => {
    if (depth > 64) throw new Error(`explain: chains nest deeper than 64 at ${name}`);
    const chain = table.chains.get(name);
    if (!chain) throw new Error(`explain: the model jumps to ${name}, which it never declares`);
    for (let i = 0; i < chain.rules.length; i++) {
      const r = chain.rules[i]!;
      const m = matchRule(r.args, packet, table.sets);
      if (m.underLimit) step(name, i, r, `under the rate limit (${m.underLimit.hits} new per ${m.underLimit.seconds}s per source)`, m.underLimit);
      if (!m.matches) continue;
      const t = targetOf(r.args);
      switch (t.kind) {
        case 'none':
          step(name, i, r, r.args.includes('--set') ? 'matches, goes on (records the source for a rate limit)' : 'audit: counts what it would drop, goes on');
          continue;
        case 'LOG':
          step(name, i, r, isAuditLog(r.args) ? 'audit: logs what it would drop, goes on' : 'logs, goes on');
          continue;
        case 'ACCEPT':
          step(name, i, r, 'ACCEPT');
          return { verdict: 'accept' };
        case 'DROP':
          step(name, i, r, 'DROP');
          return { verdict: 'drop' };
        case 'REJECT':
          step(name, i, r, 'REJECT');
          return { verdict: 'reject' };
        case 'RETURN':
          step(name, i, r, `RETURN`);
          return { back: true };
        case 'jump': {
          step(name, i, r, `jump to ${t.chain}`);
          const o = run(t.chain!, depth + 1);
          if ('verdict' in o) return o;
          continue;
        }
        case 'goto': {
          step(name, i, r, `goto ${t.chain}`);
          return run(t.chain!, depth + 1);
        }
      }
    }
    if (chain.policy) {
      steps.push({ chain: name, position: 0, args: [], origin: { kind: 'policy' }, effect: `policy ${chain.policy}` });
      return { verdict: chain.policy === 'ACCEPT' ? 'accept' : 'drop' };
    }
    steps.push({ chain: name, position: 0, args: [], origin: { kind: 'end' }, effect: 'end of the chain: back to the chain that jumped here' });
    return { back: true };
  };

  let outcome: Outcome;
  if (packet.direction === 'docker') {
    // Docker jumps to DOCKER-USER first; what DOCKER-USER returns, Docker's own chains decide
    // (a published port's connection is accepted there).
    outcome = run(CHAIN.dockerUser, 1);
    if (!('verdict' in outcome)) {
      steps.push({ chain: CHAIN.dockerUser, position: 0, args: [], origin: { kind: 'docker' }, effect: "returns to Docker's chains, which accept a published port's traffic" });
      outcome = { verdict: 'accept' };
    }
  } else {
    outcome = run(HOOK[packet.direction], 0);
  }
  if (!('verdict' in outcome)) throw new Error('explain: a built-in chain returned without a verdict');
  const decided = [...steps].reverse().find((s) => !VERDICT_CHAINS.has(s.chain) && !s.underLimit && s.origin.kind !== 'end') ?? steps[steps.length - 1]!;
  const limit = outcome.verdict === 'accept' ? steps.find((s) => s.underLimit)?.underLimit : undefined;
  const audit = outcome.verdict === 'accept' && steps[steps.length - 1]?.chain === CHAIN.audit;
  return { packet, verdict: outcome.verdict, steps, decided, limit, ...(audit ? { audit: true as const } : {}) };
}
