import type { Family } from '../validate/values.js';
import { ipv4Value } from '../validate/address-ranges.js';
import { normalise, span, type IntervalSet, type Span } from './intervals.js';

/** Addresses are bigints; a set's unknown members sit on a point of their own above every real address. */
const VIRTUAL_BASE = 1n << 130n;
const VIRTUAL_SLOTS = 1n << 20n;

export const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, icmpv6: 58 };
export const ALL_PROTOS = span(0, 255);
export const ALL_PORTS = span(0, 65535);

/** What a set holds as far as lint can know: its members (when read from a file) and its name. */
export interface KnownSet {
  name: string;
  members: string[];
  /** gen-fw's own sets for long lists: exactly their members, nothing added at run time. */
  exact: boolean;
}

/**
 * A set's file members as spans, read once for all the paths that meet the set (a
 * 50,000-address deny list is in several). A kernel set holds one family, its universe's.
 */
const membersRead = new WeakMap<KnownSet, IntervalSet>();

function memo<K>(map: Map<K, IntervalSet>, key: K, make: () => IntervalSet): IntervalSet {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

/**
 * The coordinates of one path of one family: every real address, the sets by name, and
 * one class per kind of interface name the path's patterns tell apart.
 */
export class Universe {
  private readonly setSlots = new Map<string, bigint>();
  /** Interface class representatives; index 0 matches no pattern of the path. */
  readonly ifaces: string[];

  constructor(
    readonly family: Family,
    readonly sets: ReadonlyMap<string, KnownSet>,
    patterns: readonly string[],
  ) {
    this.ifaces = interfaceClasses(patterns);
    this.realAddresses = span(0n, (1n << (family === 4 ? 32n : 128n)) - 1n);
    this.anyAddress = normalise([...this.realAddresses, [VIRTUAL_BASE, VIRTUAL_BASE + VIRTUAL_SLOTS]]);
    this.allIfaces = span(0, this.ifaces.length - 1);
  }

  /** Every real address of the family. */
  readonly realAddresses: IntervalSet;
  /** Every address including every set's unknown members: what a rule without -s covers. */
  readonly anyAddress: IntervalSet;
  readonly allIfaces: IntervalSet;

  /** What each text read as, once per path (one map per kind of text): the same networks and ports recur in rule after rule. */
  private readonly cidrs = new Map<string, IntervalSet>();
  private readonly protos = new Map<number, IntervalSet>();
  private readonly portLists = new Map<string, IntervalSet>();
  private readonly setsRead = new Map<string, IntervalSet>();
  private readonly ifacePatterns = new Map<string, IntervalSet>();

  cidr(text: string): IntervalSet {
    return memo(this.cidrs, text, () => this.readCidr(text));
  }

  /** One protocol number. */
  proto(n: number): IntervalSet {
    return memo(this.protos, n, () => span(n));
  }

  /** A port list as iptables writes it (`80`, `8000:8080`, `80,443`). */
  ports(text: string): IntervalSet {
    return memo(this.portLists, text, () => {
      const one = (part: string) => {
        const colon = part.indexOf(':');
        return colon < 0 ? span(Number(part)) : span(Number(part.slice(0, colon)), Number(part.slice(colon + 1)));
      };
      return text.includes(',') ? normalise(text.split(',').flatMap(one)) : one(text);
    });
  }

  private readCidr(text: string): IntervalSet {
    const [addr, bitsText] = text.split('/');
    const width = this.family === 4 ? 32n : 128n;
    const value = this.family === 4 ? parseV4(addr!) : parseV6(addr!);
    const bits = bitsText === undefined ? width : BigInt(bitsText);
    const host = (1n << (width - bits)) - 1n;
    const base = value & ~host;
    return span(base, base + host);
  }

  /** A set as what it is known to hold: its unknown members (unless exact) and its file's members. */
  setMembers(kernelName: string): IntervalSet {
    return memo(this.setsRead, kernelName, () => this.readSet(kernelName));
  }

  private readSet(kernelName: string): IntervalSet {
    const known = this.sets.get(kernelName);
    let members: IntervalSet = [];
    if (known) {
      const read = membersRead.get(known);
      if (read) members = read;
      else membersRead.set(known, (members = normalise(known.members.flatMap((m) => this.readCidr(m)))));
    }
    if (known?.exact) return members;
    // The unknown members' point lies above every real address: after the file's, in order.
    return [...members, ...span(this.virtualSlot(kernelName))];
  }

  /** The set whose unknown members a virtual address stands for, if any. */
  setOf(address: bigint): string | undefined {
    for (const [name, slot] of this.setSlots) if (slot === address) return name;
    return undefined;
  }

  iface(pattern: string): IntervalSet {
    return memo(this.ifacePatterns, pattern, () => this.readIface(pattern));
  }

  private readIface(pattern: string): IntervalSet {
    const idx: Span[] = [];
    this.ifaces.forEach((name, i) => {
      if (ifaceMatches(pattern, name)) idx.push([BigInt(i), BigInt(i)]);
    });
    return normalise(idx);
  }

  formatAddress(value: bigint): string {
    const set = this.setOf(value);
    if (set) return `a member of ${this.sets.get(set)?.name ?? set}`;
    return this.family === 4 ? formatV4(value) : formatV6(value);
  }

  private virtualSlot(name: string): bigint {
    let slot = this.setSlots.get(name);
    if (slot === undefined) {
      slot = VIRTUAL_BASE + BigInt(this.setSlots.size);
      this.setSlots.set(name, slot);
    }
    return slot;
  }
}

export function ifaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/**
 * One representative name per class of interface names the patterns tell apart: each exact
 * name, for each prefix a name whose longest matching prefix it is, and one that matches
 * nothing. Two names of one class match the same rules, so deciding on these is exact.
 */
export function interfaceClasses(patterns: readonly string[]): string[] {
  const exact = [...new Set(patterns.filter((p) => !p.endsWith('+')))].sort();
  const prefixes = [...new Set(patterns.filter((p) => p.endsWith('+')).map((p) => p.slice(0, -1)))].sort();
  const longestPrefix = (name: string) =>
    prefixes
      .filter((p) => name.startsWith(p))
      .reduce<string | undefined>((a, p) => (a === undefined || p.length > a.length ? p : a), undefined);
  const fresh = (stem: string, wanted: string | undefined): string => {
    for (const tail of ['', ...'0123456789abcdefghijklmnopqrstuvwxyz'.split(''), 'zz0', 'zz1']) {
      const name = stem + tail;
      if (name !== '' && !exact.includes(name) && longestPrefix(name) === wanted) return name;
    }
    return stem + '\u0000';
  };
  const out = [fresh('eth', undefined)];
  // "eth" may be a prefix itself: find a name no prefix takes.
  if (longestPrefix(out[0]!) !== undefined) out[0] = fresh('x', undefined);
  out.push(...exact);
  for (const p of prefixes) out.push(fresh(p, p));
  return out;
}

const parseV4 = ipv4Value;

function parseV6(text: string): bigint {
  const split = (s: string) => (s ? s.split(':') : []);
  const [head, tail] = text.includes('::') ? [split(text.split('::')[0]!), split(text.split('::')[1]!)] : [split(text), undefined];
  const last = tail ?? head;
  // A trailing dotted quad ("::ffff:1.2.3.4") is two groups.
  const quad = last[last.length - 1];
  if (quad?.includes('.')) {
    const n = parseV4(quad);
    last.splice(last.length - 1, 1, ((n >> 16n) & 0xffffn).toString(16), (n & 0xffffn).toString(16));
  }
  const groups = tail === undefined ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

function formatV6(v: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((v >> s) & 0xffffn));
  // The longest run of zero groups (two or more) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

export function addressValue(family: Family, text: string): bigint {
  return family === 4 ? parseV4(text) : parseV6(text);
}
