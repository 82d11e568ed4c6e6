import { diffLines } from './diff-lines.js';
import type { Change, ChainDump, Dump, Tally } from './types.js';

/** Byte order, as `LC_ALL=C sort` (names here are ASCII). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unionKeys<K extends string>(a: Iterable<K>, b: Iterable<K>): K[] {
  return [...new Set([...a, ...b])].sort(byteOrder);
}

/** Appends to `changes` one at a time: a spread of a 100,000-rule chain's changes would overflow the stack. */
function diffChain(changes: Change[], table: string, chain: string, saved: ChainDump | undefined, live: ChainDump | undefined): void {
  if (!live) changes.push({ kind: 'chain-removed', table, chain });
  else if (!saved) changes.push({ kind: 'chain-added', table, chain });
  else if (saved.policy !== live.policy) changes.push({ kind: 'policy', table, chain, saved: saved.policy, live: live.policy });
  for (const e of diffLines(saved?.rules ?? [], live?.rules ?? [])) {
    if (e.op === '-') changes.push({ kind: 'rule-removed', table, chain, rule: e.text });
    if (e.op === '+') changes.push({ kind: 'rule-added', table, chain, rule: e.text });
  }
}

/** Saved → live, per table and chain in byte order: policies, chains, and rules in order. */
export function diffDumps(saved: Dump, live: Dump): Change[] {
  const changes: Change[] = [];
  for (const table of unionKeys(saved.tables.keys(), live.tables.keys())) {
    const s = saved.tables.get(table);
    const l = live.tables.get(table);
    for (const chain of unionKeys(s?.keys() ?? [], l?.keys() ?? [])) {
      diffChain(changes, table, chain, s?.get(chain), l?.get(chain));
    }
  }
  return changes;
}

export function tallyChanges(changes: readonly Change[]): Tally {
  const t: Tally = { rulesAdded: 0, rulesRemoved: 0, policiesChanged: 0, chainsAdded: 0, chainsRemoved: 0 };
  for (const c of changes) {
    if (c.kind === 'rule-added') t.rulesAdded++;
    else if (c.kind === 'rule-removed') t.rulesRemoved++;
    else if (c.kind === 'policy') t.policiesChanged++;
    else if (c.kind === 'chain-added') t.chainsAdded++;
    else t.chainsRemoved++;
  }
  return t;
}
