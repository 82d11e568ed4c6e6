import { DOCKER_BRIDGES, globsToRegex } from '../render/render-bundle.js';
import type { ChainDump, Dump } from './types.js';

/**
 * What belongs to other tools and is left out of the check: the chains of Docker,
 * Kubernetes, ... (and the jumps into them), and the rules in a built-in chain that name
 * one of Docker's bridges with -i or -o (dockerd's MASQUERADE and FORWARD accepts).
 */
export interface ChainFilter {
  ignore: RegExp;
  owned: RegExp;
  ifaces: RegExp;
}

/** gen-fw's own chains are never left out, whatever the globs say (as in iptables-init --save). */
export const OWNED_CHAINS = 'GFW-.*';

export function chainFilterOf(
  globs: readonly string[],
  owned: string = OWNED_CHAINS,
  ifaceGlobs: readonly string[] = DOCKER_BRIDGES,
): ChainFilter {
  return { ignore: new RegExp(globsToRegex(globs)), owned: new RegExp(`^(${owned})$`), ifaces: new RegExp(globsToRegex(ifaceGlobs)) };
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

/** The built-in chains by name, in any table: INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING. */
const BUILTIN_NAMES = new Set(BUILTIN_CHAINS.flatMap(([, names]) => names));

/**
 * A rule that another tool put straight into a built-in chain: its -i or -o interface (also
 * after "!") is one of Docker's bridges. Rules in user chains (GFW-*, DOCKER-USER) never are.
 */
function bridgeRuleInBuiltin(rule: string, filter: ChainFilter): boolean {
  const w = rule.split(/[ \t]+/);
  if (!BUILTIN_NAMES.has(w[1] as string)) return false;
  for (let i = 2; i < w.length - 1; i++) {
    if ((w[i] === '-i' || w[i] === '-o') && filter.ifaces.test(w[i + 1] as string)) return true;
  }
  return false;
}

/** Left out of the comparison, as iptables-init --save leaves it out of the saved state. */
function othersRule(rule: string, filter: ChainFilter): boolean {
  return jumpsToForeign(rule, filter) || bridgeRuleInBuiltin(rule, filter);
}

/**
 * What the check compares: foreign chains, the jumps into them and Docker's bridge rules
 * in the built-in chains left out, and every built-in chain present (an empty table that
 * iptables-nft or a module load created is not drift, and a flushed table shows as policy
 * changes, not as a missing table).
 */
export function normaliseDump(dump: Dump, filter: ChainFilter): Dump {
  const tables = new Map<string, Map<string, ChainDump>>();
  for (const [table, chains] of dump.tables) {
    const kept = new Map<string, ChainDump>();
    for (const [name, chain] of chains) {
      if (isForeign(name, filter)) continue;
      kept.set(name, { policy: chain.policy, rules: chain.rules.filter((r) => !othersRule(r, filter)) });
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
