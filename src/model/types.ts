import type { Family } from '../validate/values.js';

export type Table = 'filter' | 'nat' | 'mangle' | 'raw';

/** One rule as data: `iptables [-t table] -A chain ...args`. Text only at the edge. */
export interface IptRule {
  family: Family;
  table: Table;
  chain: string;
  args: string[];
}

/** Rules with a line of explanation above them, in evaluation order. */
export interface Section {
  title: string;
  rules: IptRule[];
}

export interface ChainRef {
  family: Family;
  table: Table;
  name: string;
}

export interface Jump {
  family: Family;
  table: Table;
  /** A built-in chain. */
  from: string;
  to: string;
}

export interface Policy {
  family: Family;
  chain: 'INPUT' | 'FORWARD' | 'OUTPUT';
  policy: 'ACCEPT' | 'DROP';
}

export interface IpSet {
  /** Name in the kernel, e.g. `gfw-blocklist-v4`. */
  name: string;
  family: Family;
  /** Where its members came from, for the header. */
  origin: string;
  members: string[];
}

/** What iptables-init builds before the fragments: policies, our chains, jumps, base rules. */
export interface BaseRuleset {
  policies: Policy[];
  chains: ChainRef[];
  jumps: Jump[];
  sections: Section[];
}

export interface FragmentModel {
  service: string;
  file: string;
  sha256: string;
  description?: string;
  sections: Section[];
}

export interface Ruleset {
  base: BaseRuleset;
  fragments: FragmentModel[];
  sets: IpSet[];
}
