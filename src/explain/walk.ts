import { CHAIN, RULE_AUDIT_SUFFIX } from '../model/chains.js';
import type { Chain, ChainRule, FamilyTable, Origin } from './assemble-chains.js';
import { interfaceIs, matchRule, targetOf, type MatchContext } from './match-rule.js';
import type { Packet } from './packet.js';

export type Verdict = 'accept' | 'drop' | 'reject';

/** One rule the packet met on its way (it matched, or it was a rate limit the packet was under). */
export interface Step {
  /** The raw table's steps (CT --notrack); the filter table's have none. */
  table?: 'raw';
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
  /** A notrack rule's CT --notrack (raw table) marked it: conntrack never sees it, whatever its --state. */
  untracked?: true;
}

/** What the walk needs beyond the tables. */
export interface WalkOptions {
  /** docker.bridge when docker is enabled: what DOCKER-USER returns is Docker's own chains' to decide. */
  dockerBridges?: readonly string[];
  owners?: MatchContext['owners'];
}

/** Our shared log-and-drop and reject chains: the rule that jumped there decided. */
const VERDICT_CHAINS = new Set<string>([CHAIN.drop, CHAIN.reject, CHAIN.audit]);

/** A rule's `audit: true` (its counting rule, its LOG): no verdict, the packet goes on. */
function isAuditLog(args: readonly string[]): boolean {
  const i = args.indexOf('--log-prefix');
  return i >= 0 && (args[i + 1] ?? '').endsWith(RULE_AUDIT_SUFFIX);
}

const HOOK = { in: 'INPUT', out: 'OUTPUT', forward: 'FORWARD', docker: 'FORWARD', 'docker-out': 'FORWARD' } as const;
/** The raw table's hook: every packet that arrives meets PREROUTING, every one the host sends OUTPUT. */
export const RAW_HOOK = {
  in: 'PREROUTING',
  out: 'OUTPUT',
  forward: 'PREROUTING',
  docker: 'PREROUTING',
  'docker-out': 'PREROUTING',
} as const;

type Outcome = { verdict: Verdict } | { back: true };

/**
 * Walk the packet through one family's tables as netfilter does: first the raw table (where
 * a notrack rule's CT --notrack leaves it untracked), then the filter table from the built-in
 * chain of its hook, rule by rule; a jump comes back when its chain runs out or returns, a
 * goto returns to the chain that called the current one, a built-in chain that runs out
 * applies its policy. With Docker, FORWARD jumps to DOCKER-USER first (dockerd keeps it
 * so); what DOCKER-USER returns goes on to Docker's own chains.
 */
export function walkPacket(table: FamilyTable, packet: Packet, opts: WalkOptions = {}): Explanation {
  const ctx: MatchContext = { owners: opts.owners };
  let steps: Step[] = [];
  const raw = table.raw.size > 0;

  const runIn = (chains: ReadonlyMap<string, Chain>, tableName: 'filter' | 'raw') => {
    const step = (chain: string, i: number, r: ChainRule, effect: string, underLimit?: Step['underLimit']) =>
      steps.push({
        ...(tableName === 'raw' ? { table: 'raw' as const } : {}),
        chain,
        position: i + 1,
        args: r.args,
        origin: r.origin,
        effect,
        underLimit,
      });
    const run = (name: string, depth: number): Outcome => {
      if (depth > 64) throw new Error(`explain: chains nest deeper than 64 at ${name}`);
      const chain = chains.get(name);
      if (!chain) throw new Error(`explain: the model jumps to ${name} (${tableName} table), which it never declares`);
      for (let i = 0; i < chain.rules.length; i++) {
        const r = chain.rules[i]!;
        const m = matchRule(r.args, packet, table.sets, ctx);
        if (m.underLimit)
          step(name, i, r, `under the rate limit (${m.underLimit.hits} new per ${m.underLimit.seconds}s per source)`, m.underLimit);
        if (!m.matches) continue;
        const t = targetOf(r.args);
        switch (t.kind) {
          case 'none':
            step(
              name,
              i,
              r,
              r.args.includes('--set')
                ? 'matches, goes on (records the source for a rate limit)'
                : 'audit: counts what it would drop, goes on',
            );
            continue;
          case 'LOG':
            step(name, i, r, isAuditLog(r.args) ? 'audit: logs what it would drop, goes on' : 'logs, goes on');
            continue;
          case 'CT':
            step(name, i, r, 'CT --notrack: conntrack will not track it (state UNTRACKED), goes on');
            ctx.untracked = true;
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
            // mode audit's forward path: logs what enforce would drop and comes back, no verdict.
            step(
              name,
              i,
              r,
              t.chain === CHAIN.auditPass ? `jump to ${t.chain} (mode audit: logs what enforce would drop, goes on)` : `jump to ${t.chain}`,
            );
            const o = run(t.chain!, depth + 1);
            if ('verdict' in o) return o;
            if (name === 'FORWARD' && t.chain === CHAIN.dockerUser && tableName === 'filter') {
              const docker = dockerDecides();
              if (docker) return docker;
            }
            continue;
          }
          case 'goto': {
            step(name, i, r, `goto ${t.chain}`);
            return run(t.chain!, depth + 1);
          }
        }
      }
      if (chain.policy) {
        steps.push({
          ...(tableName === 'raw' ? { table: 'raw' as const } : {}),
          chain: name,
          position: 0,
          args: [],
          origin: { kind: 'policy' },
          effect: `policy ${chain.policy}`,
        });
        return { verdict: chain.policy === 'ACCEPT' ? 'accept' : 'drop' };
      }
      steps.push({
        ...(tableName === 'raw' ? { table: 'raw' as const } : {}),
        chain: name,
        position: 0,
        args: [],
        origin: { kind: 'end' },
        effect: 'end of the chain: back to the chain that jumped here',
      });
      return { back: true };
    };
    return run;
  };

  /**
   * What DOCKER-USER returns meets Docker's own FORWARD rules: a published port's connection
   * is accepted by its DOCKER chain, a container's own connection by `-i BR ! -o BR -j ACCEPT`;
   * other routed traffic is none of Docker's business and goes on to FORWARD's policy.
   */
  const dockerDecides = (): Outcome | undefined => {
    const docker = (effect: string) => steps.push({ chain: CHAIN.dockerUser, position: 0, args: [], origin: { kind: 'docker' }, effect });
    if (packet.direction === 'docker') {
      docker("returned to Docker's chains: accepted by Docker (its DOCKER chain accepts a published port's connections)");
      return { verdict: 'accept' };
    }
    const bridge = opts.dockerBridges?.find((b) => interfaceIs(packet.interface, b));
    if (bridge) {
      docker(
        `returned to Docker's chains: accepted by Docker (dockerd's FORWARD accepts container egress: -i ${packet.interface} ! -o ${packet.interface} -j ACCEPT)`,
      );
      return { verdict: 'accept' };
    }
    if (opts.dockerBridges)
      docker(
        `returned to Docker's chains, which take only their bridges' traffic (${packet.interface} is not one of docker.bridge): on to FORWARD's policy`,
      );
    return undefined;
  };

  if (raw) {
    const rawOutcome = runIn(table.raw, 'raw')(RAW_HOOK[packet.direction], 0);
    if (!('verdict' in rawOutcome) || rawOutcome.verdict !== 'accept')
      throw new Error('explain: the raw table decided a packet; the model only marks packets there');
    // The raw table shows only when it changed something: a packet left untracked.
    if (!ctx.untracked) steps = [];
  }
  let outcome: Outcome;
  if (packet.direction === 'docker' && ctx.untracked) {
    // Docker's DNAT is conntrack's: an untracked packet keeps the host's address and port.
    steps.push({
      table: 'raw',
      chain: RAW_HOOK.docker,
      position: 0,
      args: [],
      origin: { kind: 'docker' },
      effect: "untracked: Docker's DNAT never sees it, so the host's INPUT decides",
    });
    outcome = runIn(table.chains, 'filter')('INPUT', 0);
  } else {
    outcome = runIn(table.chains, 'filter')(HOOK[packet.direction], 0);
  }
  if (!('verdict' in outcome)) throw new Error('explain: a built-in chain returned without a verdict');
  const decided =
    [...steps].reverse().find((s) => !VERDICT_CHAINS.has(s.chain) && !s.underLimit && s.origin.kind !== 'end') ?? steps[steps.length - 1]!;
  const limit = outcome.verdict === 'accept' ? steps.find((s) => s.underLimit)?.underLimit : undefined;
  const audit = outcome.verdict === 'accept' && steps[steps.length - 1]?.chain === CHAIN.audit;
  return {
    packet,
    verdict: outcome.verdict,
    steps,
    decided,
    limit,
    ...(audit ? { audit: true as const } : {}),
    ...(ctx.untracked ? { untracked: true as const } : {}),
  };
}
