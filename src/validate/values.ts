import type IpAddr from 'ipaddr.js';
import { createRequire } from 'node:module';
import { ValueError, show } from './value-error.js';

export { ValueError, show } from './value-error.js';
export { DEFAULT_IGNORE_CHAINS, parseChainGlob, parseInterfaceGlob } from './globs.js';
export { parseSchedule } from './cron.js';

/**
 * ipaddr.js is CommonJS: required, not imported, because importing it from ESM has Node scan
 * its source for named exports first (the cjs-module-lexer), which costs more than the rest
 * of loading it.
 */
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

/** Typed values: everything that reaches a template has been through one of these. */
export type Family = 4 | 6;
export interface Address {
  family: Family;
  /** Canonical text: an address, or network/prefix. */
  text: string;
  /** True for 0.0.0.0/0 and ::/0. */
  any: boolean;
}
export interface PortRange {
  from: number;
  to: number;
}
export interface AddressSpec {
  addresses: Address[];
  /** Names of ipsets (from `@name`). */
  sets: string[];
}

/** The words enumerated keys take: one list for the definition (schema.ts), the messages and the JSON Schema. */
export const DIRECTIONS = ['in', 'out', 'forward', 'docker', 'docker-out'] as const;
export const PROTOS = ['tcp', 'udp', 'icmp', 'ipv6-icmp', 'all'] as const;
export const ACTIONS = ['accept', 'drop', 'reject'] as const;
export const POLICIES = ['accept', 'drop'] as const;
export const ECHO_REQUEST_ACTIONS = ['accept', 'drop'] as const;
export const METADATA_MODES = ['root-only', 'allow', 'block'] as const;
export const FINAL_ACTIONS = ['drop', 'reject'] as const;
/** gen-fw.yaml's mode: audit drops nothing and logs what enforce would drop or reject. */
export const MODES = ['enforce', 'audit'] as const;

const PORT_RE = /^(\d{1,5})(?::(\d{1,5}))?$/;

export function parsePort(value: unknown): PortRange {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new ValueError(`${show(value)} is not a port (a number 1-65535 or a range "from:to")`);
  const m = PORT_RE.exec(text.trim());
  if (!m) throw new ValueError(`${show(value)} is not a port (a number 1-65535 or a range "from:to")`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  for (const p of [from, to]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ValueError(`${p} is not a port (1-65535)`);
  }
  if (from > to) throw new ValueError(`range ${text} runs backwards (from must not exceed to)`);
  return { from, to };
}

export function parsePortList(value: unknown): PortRange[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new ValueError('an empty list of ports matches nothing; leave the key out instead');
  return items.map(parsePort);
}

/**
 * "x::a.b.c.d" as "x::hhhh:hhhh": ipaddr.js reads "::1.2.3.4" (IPv4-compatible) as
 * "::ffff:1.2.3.4" (IPv4-mapped), a different address; in hex it reads what was written.
 */
function dottedTailToHex(text: string): string {
  const m = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/.*)?$/.exec(text);
  if (!m) return text;
  const octets = m.slice(2, 6).map(Number);
  if (octets.some((o) => o > 255) || m.slice(2, 6).some((o) => /^0\d/.test(o!))) return text;
  const [a, b, c, d] = octets as [number, number, number, number];
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${m[6] ?? ''}`;
}

/**
 * IPv6 forms that carry an IPv4 address: ::ffff:0:0/96 (IPv4-mapped) and ::/96 (the
 * deprecated IPv4-compatible form, apart from :: and ::1). A socket sees IPv4 traffic with
 * mapped addresses, but netfilter sees it as IPv4, in iptables: an ip6tables rule on these
 * never matches. Only whole addresses or networks inside those blocks (prefix 96 or more).
 */
function embeddedIpv4(addr: IpAddr.IPv6, bits: number): string | undefined {
  if (bits < 96) return undefined;
  const p = addr.parts;
  if (p.slice(0, 5).some((x) => x !== 0)) return undefined;
  const v4 = `${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}`;
  const net = bits === 128 ? v4 : `${v4}/${bits - 96}`;
  if (p[5] === 0xffff)
    return `an IPv4-mapped IPv6 ${bits === 128 ? 'address' : 'network'}; write the IPv4 ${bits === 128 ? 'address' : 'network'} (${net}) instead: iptables matches IPv4 traffic, ip6tables never sees it`;
  const loopbackOrAny = p[5] === 0 && p[6] === 0 && p[7]! <= 1 && bits >= 127;
  if (p[5] === 0 && !loopbackOrAny)
    return `a deprecated IPv4-compatible IPv6 ${bits === 128 ? 'address' : 'network'}; write the IPv4 ${bits === 128 ? 'address' : 'network'} (${net}) instead`;
  return undefined;
}

const PLAIN_IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;

/**
 * A plain IPv4 address or network, read without ipaddr.js: what nearly every line of a
 * 50,000-address set file is. Anything unusual (a leading zero, an octet over 255, host
 * bits set, a prefix over 32) is left to the full reading below, for its message.
 */
function plainIpv4(written: string): Address | undefined {
  const m = PLAIN_IPV4.exec(written);
  if (!m) return undefined;
  const parts = [m[1]!, m[2]!, m[3]!, m[4]!, ...(m[5] === undefined ? [] : [m[5]])];
  if (parts.some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  const [a, b, c, d] = parts.slice(0, 4).map(Number) as [number, number, number, number];
  if (a > 255 || b > 255 || c > 255 || d > 255) return undefined;
  const address = `${a}.${b}.${c}.${d}`;
  if (m[5] === undefined) return { family: 4, text: address, any: false };
  const bits = Number(m[5]);
  if (bits > 32) return undefined;
  const value = a * 16777216 + b * 65536 + c * 256 + d;
  if (value % 2 ** (32 - bits) !== 0) return undefined;
  return { family: 4, text: bits === 32 ? address : `${address}/${bits}`, any: bits === 0 };
}

export function parseAddress(value: unknown): Address {
  if (typeof value !== 'string') throw new ValueError(`${show(value)} is not an address or CIDR`);
  const plain = plainIpv4(value.trim());
  if (plain) return plain;
  const written = value.trim();
  const addressPart = written.split('/')[0] ?? '';
  // ipaddr reads "010.0.0.1" as octal (8.0.0.1); people mean 10.0.0.1. Refuse the ambiguity.
  if (/^\d+(\.\d+){3}$/.test(addressPart) && /(^|\.)0\d/.test(addressPart)) {
    throw new ValueError(`${show(value)} has a leading zero in an octet (octal or decimal?); write it without`);
  }
  // iptables takes no zone index ("fe80::1%eth0"); match the interface with interface: instead.
  if (addressPart.includes('%'))
    throw new ValueError(`${show(value)} has a zone index; iptables takes none (use interface: to match the interface)`);
  const text = addressPart.includes(':') ? dottedTailToHex(written) : written;
  try {
    if (text.includes('/')) {
      // Only IPv6 has colons: ipaddr.parseCIDR would try IPv6 first and throw (slowly) for every IPv4 network.
      const [addr, bits] = text.includes(':') ? ipaddr.IPv6.parseCIDR(text) : ipaddr.IPv4.parseCIDR(text);
      const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
      const network = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
      if (network.toString() !== addr.toString()) {
        throw new ValueError(
          `${written} has host bits set (did you mean ${network.toString()}/${bits} or ${addr.toString()}/${family === 4 ? 32 : 128}?)`,
        );
      }
      const embedded = family === 6 ? embeddedIpv4(addr as IpAddr.IPv6, bits) : undefined;
      if (embedded) throw new ValueError(`${show(written)} is ${embedded}`);
      const full = family === 4 ? 32 : 128;
      const canonical = bits === full ? addr.toString() : `${addr.toString()}/${bits}`;
      return { family, text: canonical, any: bits === 0 };
    }
    if (!ipaddr.isValid(text)) throw new Error('invalid');
    const addr = ipaddr.parse(text);
    const embedded = addr.kind() === 'ipv6' ? embeddedIpv4(addr as IpAddr.IPv6, 128) : undefined;
    if (embedded) throw new ValueError(`${show(written)} is ${embedded}`);
    // ipaddr accepts forms like "10.1" and "0x0a000001"; insist on the usual dotted quad.
    if (addr.kind() === 'ipv4' && !/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) throw new Error('invalid');
    return { family: addr.kind() === 'ipv4' ? 4 : 6, text: addr.toString(), any: false };
  } catch (e) {
    if (e instanceof ValueError) throw e;
    throw new ValueError(`${show(value)} is not an IPv4/IPv6 address or CIDR`);
  }
}

export const SET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;

/** An address, a CIDR, "@set", or a list of them. */
export function parseAddressSpec(value: unknown): AddressSpec {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new ValueError('an empty address list matches nothing; leave the key out instead');
  const spec: AddressSpec = { addresses: [], sets: [] };
  for (const item of items) {
    if (typeof item === 'string' && item.startsWith('@')) {
      const name = item.slice(1);
      if (!SET_NAME_RE.test(name)) {
        throw new ValueError(`${show(item)} is not a set name (letters, digits, "_" and "-", at most 24)`);
      }
      if (!spec.sets.includes(name)) spec.sets.push(name);
    } else {
      const a = parseAddress(item);
      if (!spec.addresses.some((b) => b.text === a.text)) spec.addresses.push(a);
    }
  }
  return spec;
}

// Linux interface names: at most 15 bytes; iptables allows a trailing "+" as a wildcard.
const IFACE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,14}\+?$|^\+$/;
export function parseInterface(value: unknown): string {
  if (typeof value !== 'string' || !IFACE_RE.test(value)) {
    throw new ValueError(`${show(value)} is not an interface name (at most 15 of letters, digits, "_.:@-", optionally ending in "+")`);
  }
  return value;
}

/** Free text that ends up inside a rule (comments, log prefixes): printable, one line. */
export function parseRuleText(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new ValueError(`${what} must be text`);
  const text = String(value);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) throw new ValueError(`${what} must be one line of printable text`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > max) throw new ValueError(`${what} ${show(text)} is ${bytes} bytes long; the kernel allows at most ${max}`);
  return ownCopy(text);
}

/**
 * The text in memory of its own. The YAML parser hands out slices of the file's text, and V8
 * keeps a slice as a reference into the whole: a kept comment would keep its file's text
 * alive (10,000 service files' worth in a large render). Slicing a concatenation copies.
 */
function ownCopy(text: string): string {
  return (' ' + text).slice(1);
}

// Kernel limits: LOG prefixes are 29 bytes, rule comments 255.
export const LOG_PREFIX_MAX = 29;

export function parseLogPrefix(value: unknown): string {
  const text = parseRuleText(value, LOG_PREFIX_MAX, 'log prefix');
  if (text === '')
    throw new ValueError('log prefix must not be empty (iptables refuses an empty --log-prefix; leave the key out for the default)');
  return text;
}

export const parseComment = (value: unknown): string => parseRuleText(value, 200, 'comment');
export const parseDescription = (value: unknown): string => parseRuleText(value, 500, 'description');

const LIMIT_RE = /^([1-9]\d{0,8})\/(second|sec|s|minute|min|m|hour|h|day|d)$/;
const SECONDS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;
/**
 * xt_limit counts in units of 1/XT_LIMIT_SCALE (10000) of a second: iptables refuses a rate
 * whose interval rounds to 0 ("Rate too fast"), so at most 10000/second (600000/minute, ...).
 */
export const XT_LIMIT_SCALE = 10000;

export function parseLimit(value: unknown): string {
  const m = typeof value === 'string' ? LIMIT_RE.exec(value) : null;
  if (!m) throw new ValueError(`${show(value)} is not a rate (like "5/min", "10/second", "100/hour")`);
  const unit = (
    {
      s: 'second',
      sec: 'second',
      second: 'second',
      m: 'minute',
      min: 'minute',
      minute: 'minute',
      h: 'hour',
      hour: 'hour',
      d: 'day',
      day: 'day',
    } as const
  )[m[2] as string]!;
  const max = XT_LIMIT_SCALE * SECONDS[unit];
  if (Number(m[1]) > max) throw new ValueError(`${show(value)} is faster than the kernel's limit match can count (at most ${max}/${unit})`);
  return `${m[1]}/${unit}`;
}

// Linux: a path of at most PATH_MAX (4096) bytes, each name at most NAME_MAX (255).
const PATH_MAX = 4096;
const NAME_MAX = 255;

export function parseAbsolutePath(value: unknown): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9_./-]*$/.test(value) || /(^|\/)\.\.?(\/|$)/.test(value)) {
    throw new ValueError(`${show(value)} is not an absolute path (letters, digits, "_.-/", no "." or ".." parts)`);
  }
  // Leave room for the names gen-fw puts below it (iptables_conf.d/<service>.sh).
  if (value.length > PATH_MAX - 256) throw new ValueError(`${show(value)} is too long for a path (at most ${PATH_MAX - 256} characters)`);
  const long = value.split('/').find((part) => part.length > NAME_MAX);
  if (long !== undefined)
    throw new ValueError(`${show(value)}: the name ${show(long)} is longer than a file name can be (${NAME_MAX} characters)`);
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

export function parseRelativeFile(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_./-]+$/.test(value) || value.includes('\0')) {
    throw new ValueError(`${show(value)} is not a file path (letters, digits, "_.-/")`);
  }
  return value;
}
