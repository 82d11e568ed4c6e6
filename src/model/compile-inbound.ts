import type { RuleConfig } from '../validate/schema.js';
import type { Family, PortRange } from '../validate/values.js';
import { CHAIN, serviceInputChain } from './chains.js';
import { MULTIPORT_SLOTS, portText } from './compile-rule.js';
import type { Guard, InboundChain, IptRule } from './types.js';

/** Sorted, with overlapping and adjacent ranges merged. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  // Copied to be sorted only when out of order (most lists are in order); indexed: see src/lint/intervals.ts.
  let sorted = ranges;
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]!.from < ranges[i - 1]!.from || (ranges[i]!.from === ranges[i - 1]!.from && ranges[i]!.to < ranges[i - 1]!.to)) {
      sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
      break;
    }
  const out: PortRange[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** The guard as iptables matches; a port list too long for one multiport match widens to the protocol. */
export function guardMatch(g: Guard): string[] {
  if (g.proto === 'all') return [];
  const proto = ['-p', g.proto];
  if (!g.ports) return proto;
  if (g.ports.length === 1) return [...proto, '--dport', portText(g.ports[0]!)];
  const slots = g.ports.reduce((n, p) => n + (p.from === p.to ? 1 : 2), 0);
  return slots <= MULTIPORT_SLOTS ? [...proto, '-m', 'multiport', '--dports', g.ports.map(portText).join(',')] : proto;
}

/** The guards' protocols, in the order of their jumps. */
const GUARD_PROTOS = ['tcp', 'udp', 'icmp', 'ipv6-icmp'] as const;

/** One guard per protocol the rules use, or a single one for all when any rule is `proto: all`. */
export function guardsOf(rules: readonly Pick<RuleConfig, 'proto' | 'dport'>[]): Guard[] {
  if (rules.some((r) => r.proto === 'all')) return [{ proto: 'all' }];
  const guards: Guard[] = [];
  for (let p = 0; p < GUARD_PROTOS.length; p++) {
    const proto = GUARD_PROTOS[p]!;
    const mine = rules.filter((r) => r.proto === proto);
    if (mine.length === 0) continue;
    const anyPort = mine.some((r) => !r.dport);
    guards.push(
      anyPort || (proto !== 'tcp' && proto !== 'udp') ? { proto } : { proto, ports: mergeRanges(mine.flatMap((r) => r.dport ?? [])) },
    );
  }
  return guards;
}

/** The jump from GFW-INPUT-RULES into a service's chain for one guard. */
export function guardJump(family: Family, service: string, guard: Guard): IptRule {
  return {
    family,
    table: 'filter',
    chain: CHAIN.inputRules,
    args: [...guardMatch(guard), '-m', 'comment', '--comment', service, '-j', serviceInputChain(service)],
  };
}

/**
 * The inbound chains of one service: for each family its rules landed in, the guards that
 * cover them and the jumps. `inRules` are the service's `direction: in` rules with the
 * families each was compiled into.
 */
export function inboundChains(
  service: string,
  inRules: readonly { rule: Pick<RuleConfig, 'proto' | 'dport'>; families: Family[] }[],
): InboundChain[] {
  const out: InboundChain[] = [];
  for (const family of [4, 6] as const) {
    const rules = inRules.filter((r) => r.families.includes(family)).map((r) => r.rule);
    if (rules.length === 0) continue;
    const guards = guardsOf(rules);
    out.push({ family, chain: serviceInputChain(service), guards, jumps: guards.map((g) => guardJump(family, service, g)) });
  }
  return out;
}
