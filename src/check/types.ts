import type { DropCounts } from './count-drops.js';

/** The drift check's model: a dump as tables → chains (policy) → rules, and what differs. */

/** One chain: its policy (`-` for a user chain) and its rules, in order, as `-A CHAIN ...` lines. */
export interface ChainDump {
  policy: string;
  rules: string[];
}

/** An iptables-save dump as data. Tables and chains keep the order they came in. */
export interface Dump {
  tables: Map<string, Map<string, ChainDump>>;
  /** iptables-nft said that legacy tables exist (rules there are out of sight). */
  legacyTables: boolean;
}

/** An `ipset save` dump: the gfw-* sets only, by name. */
export interface SetDump {
  /** Name → definition (type and options, without what the kernel picks: hashsize, bucketsize, initval). */
  definitions: Map<string, string>;
  /** Name → members (with ` nomatch` when so marked). */
  members: Map<string, Set<string>>;
}

export type RulesetName = 'ipv4' | 'ipv6' | 'ipsets';

/**
 * One difference, saved → live. For ipsets, `table` is `set`, `chain` the set's name,
 * a member is a `rule` and a set's definition its `policy`.
 */
export type Change =
  | { kind: 'policy'; table: string; chain: string; saved: string; live: string }
  | { kind: 'chain-added' | 'chain-removed'; table: string; chain: string }
  | { kind: 'rule-added' | 'rule-removed'; table: string; chain: string; rule: string };

export interface Tally {
  rulesAdded: number;
  rulesRemoved: number;
  policiesChanged: number;
  chainsAdded: number;
  chainsRemoved: number;
}

/** The outcome for one ruleset (a family, or the ipsets). */
export interface RulesetResult {
  ruleset: RulesetName;
  /** Where the saved state came from, and the live one (a file, or a command). */
  saved: string;
  live: string;
  status: 'in-sync' | 'drift' | 'error';
  /** What was compared, for "in sync (N rules)". */
  size: number;
  changes: Change[];
  tally: Tally;
  legacyTables: boolean;
  /** Things to tell the operator that are not drift (stderr of iptables-save, ...). */
  findings: string[];
  /** When status is `error`: 2 cannot check (input), 3 environment. */
  error?: { code: 2 | 3; message: string };
  /** The packet counters of gen-fw's drop and audit rules, when the live dump had counters (iptables-save -c). */
  drops?: DropCounts;
}

export interface CheckReport {
  results: RulesetResult[];
  /** Unix seconds. */
  checkedAt: number;
}
