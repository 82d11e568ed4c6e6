import {
  BUILTIN_CHAINS,
  DEFAULT_IGNORE_CHAINS,
  DOCKER_BRIDGES,
  OWNED_CHAIN_GLOBS,
  dockerOwnRulesRegex,
  globsToRegex,
  type Ownership,
} from '../shared/ownership.js';
import type { ChainDump, Dump } from './types.js';

/**
 * What belongs to other tools and is left out of the check: the chains of Docker,
 * Kubernetes, ... (and the jumps into them), and the rules in a built-in chain that name
 * one of Docker's bridges with -i or -o (dockerd's MASQUERADE and FORWARD accepts). The
 * same regexes as the rendered iptables-check and iptables-init --save read (see
 * src/shared/ownership.ts and runtime/chain-filter.awk).
 */
export interface ChainFilter {
  ignore: RegExp;
  owned: RegExp;
  ifaces: RegExp;
  /** Docker's own rules in chains that are not Docker's (its RETURN in DOCKER-USER, its hairpin MASQUERADE). */
  dockerRules: RegExp;
}

/** The filter of some ownership facts; by default a host's without Docker support. */
export function chainFilterOf({
  ignoreChains = DEFAULT_IGNORE_CHAINS,
  ownedChains = OWNED_CHAIN_GLOBS,
  dockerBridges = DOCKER_BRIDGES,
  foreignRules = dockerOwnRulesRegex(),
}: Partial<Ownership> = {}): ChainFilter {
  return {
    ignore: new RegExp(globsToRegex(ignoreChains)),
    owned: new RegExp(globsToRegex(ownedChains)),
    ifaces: new RegExp(globsToRegex(dockerBridges)),
    dockerRules: new RegExp(foreignRules),
  };
}

function isForeign(chain: string, filter: ChainFilter): boolean {
  return filter.ignore.test(chain) && !filter.owned.test(chain);
}

/** The built-in chains by name, in any table: INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING. */
const BUILTIN_NAMES = new Set(BUILTIN_CHAINS.flatMap(([, names]) => names));

/**
 * The word after each `-j`/`-g` (or `-i`/`-o`) word of a rule, words split as awk splits them
 * (the first two words, `-A CHAIN`, never count). A regex scan: splitting every rule into
 * words cost `gen-fw check` tens of milliseconds at 10,000 rules.
 */
const JUMP_TARGET = /[ \t]-[jg][ \t]+([^ \t]+)/g;
const INTERFACE = /[ \t]-[io][ \t]+([^ \t]+)/g;

function someOptionValue(rule: string, option: RegExp, test: (value: string) => boolean): boolean {
  for (const m of rule.matchAll(option)) if (m.index > 2 && test(m[1] as string)) return true;
  return false;
}

/**
 * Left out of the comparison, as iptables-init --save leaves it out of the saved state: a
 * rule that jumps (-j) or goes (-g) to a foreign chain, and a rule that another tool put
 * straight into a built-in chain: its -i or -o interface (also after "!") is one of Docker's
 * bridges. Rules in user chains (GFW-*, DOCKER-USER) never are the latter. And the rules
 * dockerd writes into chains not its own: its plain RETURN in DOCKER-USER, the hairpin
 * MASQUERADE of a published port.
 */
function othersRule(chain: string, rule: string, filter: ChainFilter): boolean {
  if (filter.dockerRules.test(rule)) return true;
  if (someOptionValue(rule, JUMP_TARGET, (target) => isForeign(target, filter))) return true;
  return BUILTIN_NAMES.has(chain) && someOptionValue(rule, INTERFACE, (iface) => filter.ifaces.test(iface));
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
      kept.set(name, { policy: chain.policy, rules: chain.rules.filter((r) => !othersRule(name, r, filter)) });
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
