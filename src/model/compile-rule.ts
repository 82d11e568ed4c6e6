import { createHash } from 'node:crypto';
import type { RuleConfig } from '../validate/schema.js';
import type { Address, AddressSpec, Family, PortRange } from '../validate/values.js';
import type { IpSet, IptRule, Table } from './types.js';

/** More addresses than this in one list are matched through an ipset, never rule by rule. */
export const MAX_INLINE_ADDRESSES = 16;
/** multiport takes at most 15 ports; a range counts as two. */
export const MULTIPORT_SLOTS = 15;

export interface LogSpec {
  prefix: string;
  limit: string;
  level: number;
}

/** A rule after defaults are resolved: the one shape base rules and service rules share. */
export interface RuleSpec {
  chain: string;
  table?: Table;
  /** -i or -o; decided by the caller. */
  inInterface?: string;
  outInterface?: string;
  proto: RuleConfig['proto'];
  dport?: PortRange[];
  sport?: PortRange[];
  source?: AddressSpec;
  destination?: AddressSpec;
  /** Extra matches placed after the ports (e.g. hop limit, owner, conntrack). */
  extra?: string[];
  /** Instead of `-p tcp --dport`, match Docker's original destination port. */
  originalDport?: boolean;
  target: string[];
  log?: LogSpec;
  /**
   * `audit: true`: no verdict. A rule with no target counts the packets (iptables-check reads
   * its counter), then a LOG with the limit; the packet goes on to the next rule.
   */
  audit?: LogSpec;
  rateLimit?: { hits: number; seconds: number; name: string; overTarget: string[] };
  comment: string;
}

/** Collects the ipsets rules need: named ones from gen-fw.yaml and automatic ones for long lists. */
export class SetRegistry {
  readonly sets = new Map<string, IpSet>();
  constructor(private readonly named: ReadonlyMap<string, { origin: string; addresses: Address[] }>) {}

  /** Kernel name of a named set for one family; registers it on first use. */
  named4or6(name: string, family: Family): string {
    const kernelName = `gfw-${name}-v${family}`;
    if (!this.sets.has(kernelName)) {
      const def = this.named.get(name);
      this.sets.set(kernelName, {
        name: kernelName,
        family,
        origin: def?.origin ?? name,
        members: (def?.addresses ?? []).filter((a) => a.family === family).map((a) => a.text),
      });
    }
    return kernelName;
  }

  /** An automatic set for a long address list; named after its content so renders are stable. */
  auto(addresses: Address[], family: Family, origin: string): string {
    const members = addresses.map((a) => a.text);
    const digest = createHash('sha256').update(members.join('\n')).digest('hex').slice(0, 10);
    const kernelName = `gfw-auto-${digest}-v${family}`;
    if (!this.sets.has(kernelName)) this.sets.set(kernelName, { name: kernelName, family, origin, members });
    return kernelName;
  }
}

function familiesOf(spec: AddressSpec | undefined): Set<Family> | undefined {
  if (!spec) return undefined;
  const out = new Set<Family>(spec.addresses.map((a) => a.family));
  if (spec.sets.length) {
    out.add(4);
    out.add(6);
  }
  return out;
}

/** Which families a rule lands in: addresses decide, protocols narrow, no address means both. */
export function ruleFamilies(spec: Pick<RuleSpec, 'proto' | 'source' | 'destination'>, ipv6: boolean): Family[] {
  const src = familiesOf(spec.source);
  const dst = familiesOf(spec.destination);
  let fams: Family[] = ipv6 ? [4, 6] : [4];
  if (src) fams = fams.filter((f) => src.has(f));
  if (dst) fams = fams.filter((f) => dst.has(f));
  if (spec.proto === 'icmp') fams = fams.filter((f) => f === 4);
  if (spec.proto === 'ipv6-icmp') fams = fams.filter((f) => f === 6);
  return fams;
}

/** Address matches for one family: each entry is the argument list for one rule. */
function addressMatches(spec: AddressSpec | undefined, family: Family, flag: '-s' | '-d', sets: SetRegistry, origin: string): string[][] {
  if (!spec) return [[]];
  const out: string[][] = [];
  const addresses = spec.addresses.filter((a) => a.family === family);
  if (addresses.some((a) => a.any)) return [[]];
  if (addresses.length > MAX_INLINE_ADDRESSES) {
    out.push(['-m', 'set', '--match-set', sets.auto(addresses, family, origin), flag === '-s' ? 'src' : 'dst']);
  } else {
    for (const a of addresses) out.push([flag, a.text]);
  }
  for (const name of spec.sets) {
    out.push(['-m', 'set', '--match-set', sets.named4or6(name, family), flag === '-s' ? 'src' : 'dst']);
  }
  return out;
}

export function portText(p: PortRange): string {
  return p.from === p.to ? String(p.from) : `${p.from}:${p.to}`;
}

/** Port matches: one entry per rule; multiport lists split at 15 slots. */
function portMatches(ports: PortRange[] | undefined, which: 'sport' | 'dport', original: boolean): string[][] {
  if (!ports) return [[]];
  if (original) {
    // conntrack's --ctorigdstport takes one port or a range; one rule each.
    return ports.map((p) => ['-m', 'conntrack', '--ctstate', 'DNAT', '--ctdir', 'ORIGINAL', '--ctorigdstport', portText(p)]);
  }
  if (ports.length === 1) return [[`--${which}`, portText(ports[0]!)]];
  const out: string[][] = [];
  let chunk: string[] = [];
  let slots = 0;
  for (const p of ports) {
    const need = p.from === p.to ? 1 : 2;
    if (slots + need > MULTIPORT_SLOTS) {
      out.push(['-m', 'multiport', `--${which}s`, chunk.join(',')]);
      chunk = [];
      slots = 0;
    }
    chunk.push(portText(p));
    slots += need;
  }
  out.push(['-m', 'multiport', `--${which}s`, chunk.join(',')]);
  return out;
}

function protoArgs(proto: RuleSpec['proto']): string[] {
  return proto === 'all' ? [] : ['-p', proto];
}

function product<T>(lists: T[][][]): T[][] {
  let acc: T[][] = [[]];
  // Indexed loops: this runs for every rule, mostly in V8's interpreter (see src/lint/intervals.ts).
  for (let l = 0; l < lists.length; l++) {
    const list = lists[l]!;
    // Most lists are one choice (often an empty one): append it, no copies.
    if (list.length === 1) {
      const only = list[0]!;
      if (only.length > 0) for (let i = 0; i < acc.length; i++) acc[i]!.push(...only);
      continue;
    }
    const next: T[][] = [];
    for (let i = 0; i < acc.length; i++) for (let j = 0; j < list.length; j++) next.push([...acc[i]!, ...list[j]!]);
    acc = next;
  }
  return acc;
}

/** Compile one rule into iptables rules for each family it belongs to, in evaluation order. */
export function compileRule(spec: RuleSpec, families: Family[], sets: SetRegistry): IptRule[] {
  const out: IptRule[] = [];
  const table = spec.table ?? 'filter';
  for (let f = 0; f < families.length; f++) {
    const family = families[f]!;
    const combos = product<string>([
      spec.inInterface ? [['-i', spec.inInterface]] : [[]],
      spec.outInterface ? [['-o', spec.outInterface]] : [[]],
      addressMatches(spec.source, family, '-s', sets, spec.comment),
      addressMatches(spec.destination, family, '-d', sets, spec.comment),
      [protoArgs(spec.proto)],
      portMatches(spec.sport, 'sport', false),
      portMatches(spec.dport, 'dport', spec.originalDport === true),
      [spec.extra ?? []],
    ]);
    const comment = ['-m', 'comment', '--comment', spec.comment];
    const push = (args: string[]) => out.push({ family, table, chain: spec.chain, args });
    for (let c = 0; c < combos.length; c++) {
      const m = combos[c]!;
      if (spec.log) {
        push([
          ...m,
          ...comment,
          '-m',
          'limit',
          '--limit',
          spec.log.limit,
          '-j',
          'LOG',
          '--log-prefix',
          spec.log.prefix,
          '--log-level',
          String(spec.log.level),
        ]);
      }
      if (spec.rateLimit) {
        const rl = spec.rateLimit;
        const recent = ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'recent', '--name', rl.name];
        push([...m, ...recent, '--set', ...comment]);
        push([
          ...m,
          ...recent,
          '--update',
          '--seconds',
          String(rl.seconds),
          '--hitcount',
          String(rl.hits + 1),
          ...comment,
          ...rl.overTarget,
        ]);
      }
      if (spec.audit) {
        push([...m, ...comment]);
        push([
          ...m,
          ...comment,
          '-m',
          'limit',
          '--limit',
          spec.audit.limit,
          '-j',
          'LOG',
          '--log-prefix',
          spec.audit.prefix,
          '--log-level',
          String(spec.audit.level),
        ]);
        continue;
      }
      push([...m, ...comment, ...spec.target]);
    }
  }
  return out;
}

/** `-j ACCEPT`, `-j DROP`, or a REJECT that a TCP client sees as "connection refused". */
export function actionTarget(action: 'accept' | 'drop' | 'reject', proto: RuleSpec['proto']): string[] {
  if (action === 'accept') return ['-j', 'ACCEPT'];
  if (action === 'drop') return ['-j', 'DROP'];
  return proto === 'tcp' ? ['-j', 'REJECT', '--reject-with', 'tcp-reset'] : ['-j', 'REJECT'];
}
