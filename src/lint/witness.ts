import type { Box } from './boxes.js';
import { has, type IntervalSet } from './intervals.js';
import { addressValue, type Universe } from './universe.js';
import type { Family } from '../validate/values.js';

/** A packet lint names as proof: the first packet of a new connection. */
export interface Packet {
  family: Family;
  proto: number;
  /** Addresses as text; a set's unknown member is "a member of <set>". */
  source: string;
  destination: string;
  sport: number;
  dport: number;
  /** Interface names; undefined when any interface no rule names would do. */
  in?: string;
  out?: string;
  /** Whether no rule lint could not read stands in its way. */
  certain: boolean;
  /** Whether the rule constrains these (to print only what matters). */
  shows: { destination: boolean; sport: boolean };
}

export const DEFAULT_HINTS = ['203.0.113.7', '198.51.100.7', '192.0.2.7', '2001:db8::7', '2001:db8:1::7'];

const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'ipv6-icmp' };

function pickProto(set: IntervalSet, family: Family): number {
  for (const p of [6, 17, family === 4 ? 1 : 58]) if (has(set, BigInt(p))) return p;
  return Number(set[0]![0]);
}

function pickPort(set: IntervalSet): number {
  for (const [a, b] of set) {
    if (b >= 1n) return Number(a >= 1n ? a : 1n);
  }
  return Number(set[0]![0]);
}

function pickAddress(set: IntervalSet, u: Universe, hints: readonly string[]): bigint {
  for (const h of hints) {
    const isV6 = h.includes(':');
    if (isV6 !== (u.family === 6)) continue;
    const v = addressValue(u.family, h);
    if (has(set, v)) return v;
  }
  // The first address of a network is its name: prefer the one after it.
  const [a, b] = set[0]!;
  return b > a ? a + 1n : a;
}

const full = (x: IntervalSet, y: IntervalSet) => x.length === y.length && x.every((s, i) => s[0] === y[i]![0] && s[1] === y[i]![1]);

export function pickPacket(
  boxes: readonly Box[],
  u: Universe,
  hints: readonly string[] = DEFAULT_HINTS,
  certain: boolean,
): Packet | undefined {
  // Prefer a piece that holds a hinted source address, then real addresses over a set's unknown members.
  const score = (b: Box) =>
    (hints.some((h) => h.includes(':') === (u.family === 6) && has(b.src, addressValue(u.family, h))) ? 0 : 1) +
    (u.setOf(pickAddress(b.src, u, hints)) ? 2 : 0);
  const box = [...boxes].sort((x, y) => score(x) - score(y))[0];
  if (!box) return undefined;
  const iface = (set: IntervalSet) => {
    const i = Number(set[0]![0]);
    return i === 0 ? undefined : u.ifaces[i];
  };
  return {
    family: u.family,
    proto: pickProto(box.proto, u.family),
    source: u.formatAddress(pickAddress(box.src, u, hints)),
    destination: u.formatAddress(pickAddress(box.dst, u, hints)),
    sport: pickPort(box.sport),
    dport: pickPort(box.dport),
    in: iface(box.iif),
    out: iface(box.oif),
    certain,
    shows: {
      destination: !full(box.dst, u.realAddresses),
      sport: box.sport.length !== 1 || box.sport[0]![0] !== 0n || box.sport[0]![1] !== 65535n,
    },
  };
}

/** "tcp 10.0.3.1 → :1500", with what else the rules care about. */
export function formatPacket(p: Packet): string {
  const proto = PROTO_NAMES[p.proto] ?? `protocol ${p.proto}`;
  const ports = p.proto === 6 || p.proto === 17;
  const src = p.source + (ports && p.shows.sport ? `:${p.sport}` : '');
  const dst = (p.shows.destination ? p.destination : '') + (ports ? `:${p.dport}` : '');
  const via = [p.in ? ` in on ${p.in}` : '', p.out ? ` out on ${p.out}` : ''].join('');
  return `${proto} ${src} → ${dst || 'this host'}${via}`;
}
