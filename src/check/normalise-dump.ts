import { globsToRegex } from '../render/render-bundle.js';
import type { ChainDump, Dump } from './types.js';

/** Which chains belong to other tools (Docker, Kubernetes, ...) and are left out of the check. */
export interface ChainFilter {
  ignore: RegExp;
  owned: RegExp;
}

/** gen-fw's own chains are never left out, whatever the globs say (as in iptables-init --save). */
export const OWNED_CHAINS = 'GFW-.*';

export function chainFilterOf(globs: readonly string[], owned: string = OWNED_CHAINS): ChainFilter {
  return { ignore: new RegExp(globsToRegex(globs)), owned: new RegExp(`^(${owned})$`) };
}

/** The built-in chains of every table: an absent table is the same as one with these, empty, at ACCEPT. */
export const BUILTIN_CHAINS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['filter', ['INPUT', 'FORWARD', 'OUTPUT']],
  ['nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']],
  ['mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']],
  ['raw', ['PREROUTING', 'OUTPUT']],
  ['security', ['INPUT', 'FORWARD', 'OUTPUT']],
];

function isForeign(chain: string, filter: ChainFilter): boolean {
  return filter.ignore.test(chain) && !filter.owned.test(chain);
}

/** A rule that jumps (-j) or goes (-g) to a foreign chain. Words are split as awk splits them. */
function jumpsToForeign(rule: string, filter: ChainFilter): boolean {
  const w = rule.split(/[ \t]+/);
  for (let i = 2; i < w.length - 1; i++) {
    if ((w[i] === '-j' || w[i] === '-g') && isForeign(w[i + 1] as string, filter)) return true;
  }
  return false;
}

/**
 * What the check compares: foreign chains and the jumps into them left out, and every
 * built-in chain present (an empty table that iptables-nft or a module load created is
 * not drift, and a flushed table shows as policy changes, not as a missing table).
 */
export function normaliseDump(dump: Dump, filter: ChainFilter): Dump {
  const tables = new Map<string, Map<string, ChainDump>>();
  for (const [table, chains] of dump.tables) {
    const kept = new Map<string, ChainDump>();
    for (const [name, chain] of chains) {
      if (isForeign(name, filter)) continue;
      kept.set(name, { policy: chain.policy, rules: chain.rules.filter((r) => !jumpsToForeign(r, filter)) });
    }
    tables.set(table, kept);
  }
  for (const [table, builtins] of BUILTIN_CHAINS) {
    const chains = tables.get(table) ?? new Map<string, ChainDump>();
    const declared = dump.tables.get(table);
    for (const name of builtins) {
      if (!declared?.has(name)) chains.set(name, { policy: 'ACCEPT', rules: [] });
    }
    tables.set(table, chains);
  }
  return { tables, legacyTables: dump.legacyTables };
}

export function countRules(dump: Dump): number {
  let n = 0;
  for (const chains of dump.tables.values()) for (const c of chains.values()) n += c.rules.length;
  return n;
}
