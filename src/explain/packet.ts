import { didYouMean } from '../validate/did-you-mean.js';
import { ValueError, parseAddress, parseInterface, show, type Family } from '../validate/values.js';

export const PACKET_DIRECTIONS = ['in', 'out', 'forward', 'docker', 'docker-out'] as const;
export const PACKET_PROTOS = ['tcp', 'udp', 'icmp', 'ipv6-icmp'] as const;
export const PACKET_STATES = ['new', 'established'] as const;
export const PACKET_KEYS = ['direction', 'proto', 'source', 'destination', 'sport', 'dport', 'interface', 'user', 'state'] as const;

export type PacketDirection = (typeof PACKET_DIRECTIONS)[number];
export type PacketProto = (typeof PACKET_PROTOS)[number];
export type PacketKey = (typeof PACKET_KEYS)[number];

/** One packet, every field decided: what the walk and the kernel both take. */
export interface Packet {
  direction: PacketDirection;
  family: Family;
  proto: PacketProto;
  source: string;
  destination: string;
  /** tcp and udp only. */
  sport?: number;
  dport?: number;
  /** The interface it comes in on (in, forward, docker, docker-out) or leaves by (out). */
  interface: string;
  /** The local user that sends it (out only); root when not given. gid: the user's primary group (a bare uid: the same number). */
  user: { uid: number; name?: string; gid?: number };
  state: 'new' | 'established';
}

/** A problem with one field of a packet; the caller says where the field was written. */
export interface PacketProblem {
  key: PacketKey | string;
  message: string;
}

/** Looks a user name up (the system's passwd); undefined when there is no such user. */
export type UserLookup = (name: string) => { uid: number; gid?: number } | undefined;

/** Where a packet's unspecified addresses come from: documentation addresses, as the kernel proof assigns them. */
const DEFAULT_ADDRESSES = {
  4: { host: '192.0.2.1', other: '192.0.2.2' },
  6: { host: '2001:db8::1', other: '2001:db8::2' },
} as const;
export const DEFAULT_SPORT = 40000;
export const DEFAULT_INTERFACE = 'eth0';

function oneOf<T extends string>(value: unknown, words: readonly T[], what: string): T {
  if (typeof value === 'string' && (words as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, words) : undefined;
  throw new ValueError(`${show(value)} is not ${what} (one of ${words.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
}

function port(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)
    throw new ValueError(`${show(value)} is not a port (a number 1-65535)`);
  return n;
}

function hostAddress(value: unknown): { family: Family; text: string } {
  const a = parseAddress(typeof value === 'number' ? String(value) : value);
  if (a.text.includes('/')) throw new ValueError(`${show(value)} is a network; a packet has one address`);
  return { family: a.family, text: a.text };
}

const isLoopback = (a: { family: Family; text: string }) => (a.family === 4 ? a.text.startsWith('127.') : a.text === '::1');

/** What the host's settings decide about an unspecified field: a docker-out packet comes in on the first of docker.bridge. */
export interface PacketDefaults {
  dockerBridges?: readonly string[];
}

/** The bridge a container's connection comes in on when none is given: the first of docker.bridge (a wildcard's first name: br-+ is br-0). */
export function defaultBridge(bridges: readonly string[] | undefined): string {
  const first = bridges?.[0] ?? 'docker0';
  return first.endsWith('+') ? `${first.slice(0, -1)}0` : first;
}

/**
 * A packet from its fields (command-line flags or an expectations file entry): defaults
 * filled in, and every impossible combination refused with the field it is about.
 */
export function parsePacket(
  raw: Readonly<Record<string, unknown>>,
  lookupUser: UserLookup,
  opts: PacketDefaults = {},
): { packet?: Packet; problems: PacketProblem[] } {
  const problems: PacketProblem[] = [];
  const field = <T>(key: PacketKey, parse: (v: unknown) => T): T | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    try {
      return parse(v);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      problems.push({ key, message: e.message });
      return undefined;
    }
  };
  for (const key of Object.keys(raw)) {
    if ((PACKET_KEYS as readonly string[]).includes(key)) continue;
    const hint = didYouMean(key, PACKET_KEYS);
    problems.push({ key, message: hint ? `unknown key (did you mean "${hint}"?)` : `unknown key (known keys: ${PACKET_KEYS.join(', ')})` });
  }
  const direction = field('direction', (v) => oneOf(v, PACKET_DIRECTIONS, 'a direction'));
  if (raw.direction === undefined) problems.push({ key: 'direction', message: `is required (one of ${PACKET_DIRECTIONS.join(', ')})` });
  const proto = field('proto', (v) => oneOf(v, PACKET_PROTOS, 'a protocol'));
  if (raw.proto === undefined) problems.push({ key: 'proto', message: `is required (one of ${PACKET_PROTOS.join(', ')})` });
  const source = field('source', hostAddress);
  const destination = field('destination', hostAddress);
  const sport = field('sport', port);
  const dport = field('dport', port);
  const iface = field('interface', (v) => {
    const name = parseInterface(v);
    if (name.endsWith('+')) throw new ValueError(`${show(v)} is a wildcard; a packet crosses one interface`);
    return name;
  });
  const state = field('state', (v) => oneOf(v, PACKET_STATES, 'a connection state')) ?? 'new';
  const user = field('user', (v) => {
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
      const uid = Number(v);
      if (!Number.isInteger(uid) || uid < 0 || uid > 4294967294) throw new ValueError(`${show(v)} is not a user id`);
      return { uid, gid: uid };
    }
    if (typeof v !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(v)) throw new ValueError(`${show(v)} is not a user name or id`);
    const found = lookupUser(v);
    if (!found) throw new ValueError(`no user "${v}" on this system (give a uid instead)`);
    return { uid: found.uid, name: v, gid: found.gid ?? found.uid };
  });

  if (!direction || !proto) return { problems };
  if ((sport !== undefined || dport !== undefined) && proto !== 'tcp' && proto !== 'udp') {
    problems.push({ key: dport !== undefined ? 'dport' : 'sport', message: `ports need proto tcp or udp (proto is ${proto})` });
  }
  if ((proto === 'tcp' || proto === 'udp') && dport === undefined && raw.dport === undefined) {
    problems.push({ key: 'dport', message: `a ${proto} packet needs a destination port` });
  }
  if (user && direction !== 'out')
    problems.push({ key: 'user', message: `only a packet this host sends (direction out) has a local user (direction is ${direction})` });
  if (source && destination && source.family !== destination.family) {
    problems.push({
      key: 'destination',
      message: `${destination.text} is IPv${destination.family} but the source ${source.text} is IPv${source.family}`,
    });
  }
  const given = source ?? destination;
  const family: Family = given?.family ?? (proto === 'ipv6-icmp' ? 6 : 4);
  if (proto === 'icmp' && family === 6) problems.push({ key: 'proto', message: 'icmp is IPv4; an IPv6 packet is ipv6-icmp' });
  if (proto === 'ipv6-icmp' && family === 4) problems.push({ key: 'proto', message: 'ipv6-icmp is IPv6; an IPv4 packet is icmp' });
  const ifName = iface ?? (direction === 'docker-out' ? defaultBridge(opts.dockerBridges) : DEFAULT_INTERFACE);
  if (ifName === 'lo') {
    for (const [key, a] of [
      ['source', source],
      ['destination', destination],
    ] as const) {
      if (a && !isLoopback(a)) problems.push({ key, message: `${a.text} cannot cross lo (only 127.0.0.0/8 and ::1 do)` });
    }
  }
  if (problems.length) return { problems };

  const d = DEFAULT_ADDRESSES[family];
  const loop = ifName === 'lo' ? (family === 4 ? '127.0.0.1' : '::1') : undefined;
  // In: the host is the destination; out: the source; forward and docker-out: neither (two others).
  const local = direction === 'out' ? 'source' : 'destination';
  const routed = direction === 'forward' || direction === 'docker-out';
  const fallback = (which: 'source' | 'destination') => loop ?? (which === local && !routed ? d.host : d.other);
  const packet: Packet = {
    direction,
    family,
    proto,
    source: source?.text ?? fallback('source'),
    destination: destination?.text ?? (routed && !loop ? (family === 4 ? '198.51.100.2' : '2001:db8:1::2') : fallback('destination')),
    interface: ifName,
    user: user ?? { uid: 0, name: 'root', gid: 0 },
    state,
  };
  if (proto === 'tcp' || proto === 'udp') {
    packet.sport = sport ?? DEFAULT_SPORT;
    packet.dport = dport;
  }
  return { packet, problems };
}

/** The packet in one line, as people write it: `in tcp 192.0.2.2:40000 -> 192.0.2.1:5432 on eth0, new`. */
export function describePacket(p: Packet): string {
  const at = (addr: string, port?: number) => (port === undefined ? addr : p.family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`);
  const via = p.direction === 'out' ? `via ${p.interface}` : `on ${p.interface}`;
  const who = p.direction === 'out' ? `, user ${p.user.name ?? p.user.uid}` : '';
  const type = p.proto === 'icmp' || p.proto === 'ipv6-icmp' ? ' echo-request' : '';
  return `${p.direction} ${p.proto}${type} ${at(p.source, p.sport)} -> ${at(p.destination, p.dport)} ${via}${who}, ${p.state}`;
}
