import type IpAddr from 'ipaddr.js';
import { createRequire } from 'node:module';
import type { Config, Service } from '../validate/validate-config.js';
import type { Family, PortRange } from '../validate/values.js';
import type { IptRule } from './types.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

/**
 * The notrack fast path (docs/decisions.md): a notrack rule's packets are accepted in
 * GFW-INPUT-UNTRACKED, which GFW-INPUT jumps to for untracked packets right after the deny
 * list and the established accept, instead of at the end of the base rules, the port
 * dispatch and the service's chain; their replies leave by GFW-OUTPUT-UNTRACKED before the
 * invalid and metadata rules when those cannot meet them. Both moves are made only where
 * they change no verdict: nothing the packet would have met in between may do anything but
 * accept it. Decided here, at compile time, conservatively: a rule is taken to meet the
 * packet unless its protocol, ports, conntrack state or addresses say it cannot.
 */

/** The packets a notrack rule lets in (or its replies out), one family: what a rule in their way must not meet. */
export interface PacketClass {
  family: Family;
  proto: 'tcp' | 'udp';
  dport?: readonly PortRange[];
  sport?: readonly PortRange[];
  /** Networks (CIDR text) the source or destination lies in; undefined: any address. */
  src?: readonly string[];
  dst?: readonly string[];
}

function cidr(text: string): [IpAddr.IPv4 | IpAddr.IPv6, number] {
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const a = ipaddr.parse(text);
  return [a, a.kind() === 'ipv4' ? 32 : 128];
}

/** Two networks share an address when one holds the other's base. */
function netsOverlap(a: string, b: string): boolean {
  const [na, ba] = cidr(a);
  const [nb, bb] = cidr(b);
  if (na.kind() !== nb.kind()) return false;
  return ba <= bb ? nb.match(na, ba) : na.match(nb, bb);
}

function portsOf(text: string): PortRange[] {
  return text.split(',').map((p) => {
    const [from, to] = p.split(':').map(Number) as [number, number | undefined];
    return { from, to: to ?? from };
  });
}

const portsOverlap = (a: readonly PortRange[], b: readonly PortRange[]) => a.some((x) => b.some((y) => x.from <= y.to && y.from <= x.to));

/**
 * Whether a rule (its arguments as the model builds them) may match a packet of the class:
 * false only when one of its matches provably excludes every such packet. A negation, or a
 * match this does not read, leaves it possible.
 */
export function mayMeet(args: readonly string[], p: PacketClass): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '!') {
      // A negated match proves nothing here: skip its option (and its value, if it has one).
      i++;
      if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) i++;
      continue;
    }
    if (a === '-j' || a === '-g') return true;
    const v = args[i + 1] ?? '';
    switch (a) {
      case '-p':
        if (v !== 'all' && v !== p.proto) return false;
        break;
      case '--dport':
      case '--dports':
        if (p.dport && !portsOverlap(portsOf(v), p.dport)) return false;
        break;
      case '--sport':
      case '--sports':
        if (p.sport && !portsOverlap(portsOf(v), p.sport)) return false;
        break;
      case '--ctstate':
        if (!v.split(',').includes('UNTRACKED')) return false;
        break;
      case '-s':
        if (p.src && !p.src.some((n) => netsOverlap(n, v))) return false;
        break;
      case '-d':
        if (p.dst && !p.dst.some((n) => netsOverlap(n, v))) return false;
        break;
    }
  }
  return true;
}

/** A plain accept: the same verdict as the notrack rule's, nothing logged or counted on the way. */
const isPlainAccept = (args: readonly string[]) => args.length >= 2 && args[args.length - 2] === '-j' && args[args.length - 1] === 'ACCEPT';

/** The first of the rules that may meet the class with another outcome than a plain accept. */
export function firstBlocker(rules: readonly IptRule[], p: PacketClass): IptRule | undefined {
  return rules.find((r) => r.family === p.family && !isPlainAccept(r.args) && mayMeet(r.args, p));
}

/** A notrack rule's networks of one family; undefined when any address may be there (no source, or a set). */
function networks(spec: Service['rules'][number]['source'], family: Family): string[] | undefined {
  if (!spec || spec.sets.length > 0) return undefined;
  const mine = spec.addresses.filter((a) => a.family === family);
  if (mine.length === 0 || mine.some((a) => a.any)) return undefined;
  return mine.map((a) => a.text);
}

type Rule = Service['rules'][number];

/** The families a notrack rule is compiled into: a source without sets names them. */
function familiesOf(rule: Rule, families: readonly Family[]): Family[] {
  const s = rule.source;
  if (!s || s.sets.length > 0 || s.addresses.some((a) => a.any)) return [...families];
  return families.filter((f) => s.addresses.some((a) => a.family === f));
}

/** The packets of a notrack rule (inbound) and of its replies (outbound), one family. */
export function inboundClass(rule: Rule, family: Family): PacketClass {
  return { family, proto: rule.proto as 'tcp' | 'udp', dport: rule.dport, sport: rule.sport, src: networks(rule.source, family) };
}
export function replyClass(rule: Rule, family: Family): PacketClass {
  return { family, proto: rule.proto as 'tcp' | 'udp', sport: rule.dport, dport: rule.sport, dst: networks(rule.source, family) };
}

/** Whether an earlier service rule may meet a notrack rule's packets with another outcome (read from the config). */
function blocksInService(earlier: Rule, rule: Rule): boolean {
  if (earlier.direction !== 'in') return false;
  if (earlier.action === 'accept' && !earlier.log && !earlier.audit && !earlier.rate_limit) return false;
  if (earlier.proto !== 'all' && earlier.proto !== rule.proto) return false;
  if (earlier.dport && rule.dport && !portsOverlap(earlier.dport, rule.dport)) return false;
  return true;
}

/** What decides a notrack rule's fast path: hoisted, or why not. */
export type FastPath = { hoisted: true } | { hoisted: false; why: string };

export interface FastPathPlan {
  /** By service name, then rule index: each notrack rule's decision. */
  rules: Map<string, Map<number, FastPath>>;
  /** Some rule is hoisted: GFW-INPUT-UNTRACKED and its jump exist. */
  input: boolean;
  /** The families whose untracked replies leave before the invalid and metadata rules. */
  earlyOutput: Family[];
}

/**
 * Decide the fast path of every notrack rule. `inputBetween`: the base rules of GFW-INPUT
 * between the fast path's jump and the jump into the services; `outputBetween`: those of
 * GFW-OUTPUT between the early and the late place of the untracked replies' jump.
 */
export function planFastPath(
  config: Pick<Config, 'services'>,
  families: readonly Family[],
  inputBetween: readonly IptRule[],
  outputBetween: readonly IptRule[],
): FastPathPlan {
  const rules = new Map<string, Map<number, FastPath>>();
  const late = new Set<Family>();
  let input = false;
  // The rules before the notrack rule that may take its packets otherwise: earlier services
  // in name order (the order of the fragments, and of the dispatch's jumps), then its own.
  const blocking: { service: string; index: number; rule: Rule }[] = [];
  for (const service of config.services) {
    service.rules.forEach((rule, index) => {
      if (rule.notrack) {
        const decision = decide(rule, service.name);
        if (decision.hoisted) input = true;
        let mine = rules.get(service.name);
        if (!mine) rules.set(service.name, (mine = new Map()));
        mine.set(index, decision);
        for (const f of familiesOf(rule, families)) if (firstBlocker(outputBetween, replyClass(rule, f))) late.add(f);
      }
      if (rule.direction === 'in' && !(rule.action === 'accept' && !rule.log && !rule.audit && !rule.rate_limit)) {
        blocking.push({ service: service.name, index, rule });
      }
    });
  }
  function decide(rule: Rule, service: string): FastPath {
    if (rule.log || rule.audit) return { hoisted: false, why: 'it logs (log or audit), which the fast path would skip' };
    const earlier = blocking.find((b) => blocksInService(b.rule, rule));
    if (earlier) {
      const who = earlier.service === service ? `its own rules[${earlier.index}]` : `${earlier.service}'s rules[${earlier.index}]`;
      return {
        hoisted: false,
        why: `${who} (${earlier.rule.action}${earlier.rule.log ? ', log' : ''}${earlier.rule.audit ? ', audit' : ''}${earlier.rule.rate_limit ? ', rate_limit' : ''}) may meet its packets first`,
      };
    }
    for (const f of familiesOf(rule, families)) {
      const base = firstBlocker(inputBetween, inboundClass(rule, f));
      if (base) return { hoisted: false, why: `the base rule "${base.args.join(' ')}" may meet its packets first` };
    }
    return { hoisted: true };
  }
  return { rules, input, earlyOutput: families.filter((f) => !late.has(f)) };
}
