import type { Family, PortRange } from '../validate/values.js';

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

/** A match that every rule of a service's inbound chain implies: skipping the chain when it fails changes nothing. */
export interface Guard {
  proto: 'tcp' | 'udp' | 'icmp' | 'ipv6-icmp' | 'all';
  /** Destination ports, merged and sorted (tcp and udp only); undefined: any port. */
  ports?: PortRange[];
}

/** A service's inbound rules of one family, in GFW-I-<service>, and the jumps into it. */
export interface InboundChain {
  family: Family;
  chain: string;
  /** Disjoint (one per protocol, or one for all): a packet takes at most one jump. */
  guards: Guard[];
  /** The jumps from GFW-INPUT-RULES, one per guard, as the fragment has them. */
  jumps: IptRule[];
}

export interface FragmentModel {
  service: string;
  file: string;
  sha256: string;
  description?: string;
  sections: Section[];
  inbound: InboundChain[];
}

/** Inbound port dispatch, one family: the pre-built form's replacement for the jumps. */
export interface Dispatch {
  family: Family;
  /** Chains to declare, root (GFW-I-PORTS) first. */
  chains: string[];
  /** The jump from GFW-INPUT-RULES, then the rules of the dispatch chains. */
  rules: IptRule[];
}

export interface Ruleset {
  base: BaseRuleset;
  fragments: FragmentModel[];
  sets: IpSet[];
  /** Empty when a linear list of jumps is as cheap (few services). */
  dispatch: Dispatch[];
}

/**
 * The same ruleset as it is compiled: the fragments one at a time, then what depends on all
 * of them (base and sets, and the dispatch, made anew at each call so that the caller
 * decides how long it lives), available once the fragments are exhausted.
 */
export interface RulesetStream {
  fragments: Iterable<FragmentModel>;
  rest(): Pick<Ruleset, 'base' | 'sets'>;
  dispatch(): Dispatch[];
}
