import type { Address, Family } from './values.js';

/** An address or network as the first and last address it holds, as numbers. */
export interface Range {
  family: Family;
  from: bigint;
  to: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

function toBigInt(address: string, family: Family): bigint {
  if (family === 4) return address.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
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

/** Is every address of `r` in one of `cover`? */
export function covered(r: Range, cover: readonly Range[]): boolean {
  const same = cover.filter((c) => c.family === r.family).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  let next = r.from;
  for (const c of same) {
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
export const NOT_FROM_OUTSIDE: readonly Range[] = [net(4, '127.0.0.0/8'), net(4, '169.254.0.0/16'), net(6, '::1'), net(6, 'fe80::/10')];
