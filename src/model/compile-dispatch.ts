import type { Family, PortRange } from '../validate/values.js';
import { CHAIN, dispatchChain } from './chains.js';
import { portText } from './compile-rule.js';
import { guardJump } from './compile-inbound.js';
import type { Dispatch, InboundChain, IptRule } from './types.js';

/** With more services than this (with inbound rules, in one family), new connections are dispatched by port. */
export const DISPATCH_MIN_SERVICES = 8;
/** Children per dispatch chain, and services a leaf may list before it is split. */
const FANOUT = 4;
const LEAF = 8;

/** What the dispatch needs of a fragment: its service and the guards of its inbound chains. */
export interface DispatchInput {
  service: string;
  inbound: readonly Pick<InboundChain, 'family' | 'guards'>[];
}

const ALL_PORTS: PortRange[] = [{ from: 0, to: 65535 }];

interface Entry {
  ranges: PortRange[];
  /** The jump into the service's chain (guard matches, comment, -j). */
  args: string[];
}

const overlaps = (e: Entry, span: PortRange) => e.ranges.some((r) => r.from <= span.to && r.to >= span.from);

/**
 * A search tree over destination ports for one protocol: each chain sends a packet on
 * (`-g`, so nothing comes back to it) to the child whose port span holds its port, and a
 * leaf jumps to every service whose ports overlap the leaf's span, in fragment order. A
 * packet therefore meets exactly the services whose guards it matches, in the order a
 * linear list would have shown them. When the tree would be larger than the list (many
 * services on all ports sit in every leaf), the root chain is the list.
 */
function portTree(
  proto: 'tcp' | 'udp',
  entries: Entry[],
  rule: (chain: string, args: string[]) => void,
  declare: (chain: string) => void,
): void {
  const cuts = new Set<number>([0, 65536]);
  for (const e of entries) for (const r of e.ranges) cuts.add(r.from).add(r.to + 1);
  const bounds = [...cuts].sort((a, b) => a - b);
  const spans = bounds.slice(0, -1).map((from, i) => ({ from, to: bounds[i + 1]! - 1 }));
  const out: [string, string[]][] = [];
  const chains: string[] = [];
  const node = (name: string, members: Entry[], a: number, z: number) => {
    if (members.length <= LEAF || z - a === 1) {
      for (const m of members) out.push([name, m.args]);
      return;
    }
    // Children of about LEAF services each, at most FANOUT of them.
    const step = Math.ceil((z - a) / Math.min(FANOUT, Math.ceil(members.length / LEAF)));
    for (let s = a; s < z; s += step) {
      const e = Math.min(z, s + step);
      const span = { from: spans[s]!.from, to: spans[e - 1]!.to };
      const inside = members.filter((m) => overlaps(m, span));
      if (inside.length === 0) continue;
      const child = dispatchChain(proto, span);
      chains.push(child);
      out.push([name, ['-p', proto, '--dport', portText(span), '-g', child]]);
      node(child, inside, s, e);
    }
  };
  node(dispatchChain(proto), entries, 0, spans.length);
  if (out.length > 4 * entries.length + 64) {
    // Services that take every port sit in every leaf: the linear list is cheaper.
    for (const m of entries) rule(dispatchChain(proto), m.args);
    return;
  }
  for (const c of chains) declare(c);
  for (const [chain, args] of out) rule(chain, args);
}

/**
 * The pre-built form's inbound dispatch, per family with enough services: GFW-INPUT-RULES
 * jumps once to GFW-I-PORTS, which sends TCP and UDP down their port trees and jumps, in
 * order, to the services that take other protocols. It replaces the fragments' jumps.
 */
export function compileDispatch(fragments: readonly DispatchInput[]): Dispatch[] {
  const out: Dispatch[] = [];
  for (const family of [4, 6] as Family[]) {
    const chains = fragments.flatMap((f) => f.inbound.filter((c) => c.family === family).map((c) => ({ service: f.service, c })));
    if (chains.length <= DISPATCH_MIN_SERVICES) continue;
    const d: Dispatch = { family, chains: [CHAIN.inputPorts], rules: [] };
    const rule = (chain: string, args: string[]) => d.rules.push({ family, table: 'filter', chain, args } satisfies IptRule);
    rule(CHAIN.inputRules, ['-m', 'comment', '--comment', 'gen-fw: services, by protocol and port', '-j', CHAIN.inputPorts]);
    const trees: ['tcp' | 'udp', Entry[]][] = [];
    for (const proto of ['tcp', 'udp'] as const) {
      const entries = chains.flatMap(({ service, c }) => {
        const g = c.guards.find((x) => x.proto === proto || x.proto === 'all');
        if (!g) return [];
        return [{ ranges: g.ports ?? ALL_PORTS, args: guardJump(family, service, g.proto === 'all' ? { proto } : g).args }];
      });
      if (entries.length === 0) continue;
      trees.push([proto, entries]);
      rule(CHAIN.inputPorts, ['-p', proto, '-g', dispatchChain(proto)]);
      d.chains.push(dispatchChain(proto));
    }
    for (const { service, c } of chains) {
      for (const g of c.guards) if (g.proto !== 'tcp' && g.proto !== 'udp') rule(CHAIN.inputPorts, guardJump(family, service, g).args);
    }
    for (const [proto, entries] of trees) portTree(proto, entries, rule, (chain) => d.chains.push(chain));
    out.push(d);
  }
  return out;
}
