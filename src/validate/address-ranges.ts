import type { Address, Family } from './values.js';

/** An address or network as the first and last address it holds, as numbers. */
export interface Range {
  family: Family;
  from: bigint;
  to: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

/** A dotted quad as a number: plain numbers below 2^32, one BigInt at the end (a deny list or set file may hold 50,000). */
export function ipv4Value(address: string): bigint {
  const [a = 0, b = 0, c = 0, d = 0] = address.split('.').map(Number);
  return BigInt(a * 16777216 + b * 65536 + c * 256 + d);
}

function toBigInt(address: string, family: Family): bigint {
  if (family === 4) return ipv4Value(address);
  // Canonical IPv6 text from values.ts: hex groups, at most one "::".
  const [head = '', tail] = address.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function rangeOf(a: Address): Range {
  const [addr = '', bitsText] = a.text.split('/');
  const width = BITS[a.family];
  const bits = bitsText === undefined ? width : Number(bitsText);
  const from = toBigInt(addr, a.family);
  const size = 1n << BigInt(width - bits);
  return { family: a.family, from, to: from + size - 1n };
}

/** Ranges in the order `covered` reads them: by family, then first address. */
export function sortedRanges(ranges: readonly Range[]): Range[] {
  return [...ranges].sort((a, b) => a.family - b.family || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/** Is every address of `r` in one of `cover` (sorted by sortedRanges)? */
export function covered(r: Range, cover: readonly Range[]): boolean {
  let next = r.from;
  for (const c of cover) {
    if (c.family !== r.family) continue;
    if (c.from > next) break;
    if (c.to >= next) next = c.to + 1n;
    if (next > r.to) return true;
  }
  return next > r.to;
}

/** The whole of a family: 0.0.0.0/0 or ::/0. */
export const everything = (family: Family): Range => ({ family, from: 0n, to: (1n << BigInt(BITS[family])) - 1n });

const net = (family: Family, text: string): Range => rangeOf({ family, text, any: false });
/** Addresses no packet from outside the host comes from: loopback and link-local. */
export const NOT_FROM_OUTSIDE: readonly Range[] = sortedRanges([
  net(4, '127.0.0.0/8'),
  net(4, '169.254.0.0/16'),
  net(6, '::1'),
  net(6, 'fe80::/10'),
]);
