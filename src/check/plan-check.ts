import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError } from '../errors.js';
import { ValueError } from '../validate/value-error.js';
import { parseChainGlob, parseInterfaceGlob } from '../validate/globs.js';
import type { StateSource } from './read-state.js';
import { chainFilterOf, type ChainFilter } from './normalise-dump.js';
import type { RulesetName } from './types.js';

/** One comparison to make: a ruleset, where its saved state is, and where its live state is. */
export interface PlannedCheck {
  ruleset: RulesetName;
  saved: StateSource;
  live: StateSource;
}

export interface CheckOptions {
  saved?: string;
  live?: string;
  family?: string;
  ignoreChain?: string[];
  ignoreInterface?: string[];
  savedSets?: string;
  liveSets?: string;
}

/** What the host looks like, so that planning stays a pure function. */
export interface HostFacts {
  stateDir: string;
  exists(path: string): boolean;
  hasIpv6: boolean;
}

export function hostFacts(): HostFacts {
  return { stateDir: '/etc/iptables', exists: existsSync, hasIpv6: existsSync('/proc/net/if_inet6') };
}

function usage(message: string): never {
  throw new ExitError(2, message);
}

function validGlobs(option: string, globs: readonly string[], parse: (v: unknown) => string): void {
  for (const g of globs) {
    try {
      parse(g);
    } catch (e) {
      if (e instanceof ValueError) usage(`${option}: ${e.message}`);
      throw e;
    }
  }
}

/** --ignore-chain and --ignore-interface each replace their default list when given. */
function planFilter(chainGlobs: readonly string[], ifaceGlobs: readonly string[]): ChainFilter {
  validGlobs('--ignore-chain', chainGlobs, parseChainGlob);
  validGlobs('--ignore-interface', ifaceGlobs, parseInterfaceGlob);
  return chainFilterOf({
    ...(chainGlobs.length ? { ignoreChains: chainGlobs } : {}),
    ...(ifaceGlobs.length ? { dockerBridges: ifaceGlobs } : {}),
  });
}

/** -c: the packet counters, for the metrics (the comparison leaves them out). */
function saveCommand(ruleset: 'ipv4' | 'ipv6'): { command: string; args: string[] } {
  return { command: ruleset === 'ipv4' ? 'iptables-save' : 'ip6tables-save', args: ['-c'] };
}

/**
 * Which rulesets to compare, and with what. With no files: both families (IPv6 when the
 * kernel has it) against iptables-save, and the gfw-* ipsets when /etc/iptables/ipsets
 * exists. A --saved or --live file holds one family: IPv4 unless --family ipv6.
 */
export function planCheck(o: CheckOptions, host: HostFacts): { specs: PlannedCheck[]; filter: ChainFilter } {
  const files = o.saved !== undefined || o.live !== undefined;
  const family = o.family ?? (files ? 'ipv4' : 'both');
  if (family !== 'ipv4' && family !== 'ipv6' && family !== 'both') usage(`--family: ${JSON.stringify(family)} is not ipv4, ipv6 or both`);
  if (files && family === 'both') usage('--saved and --live files hold one family: add --family ipv4 or --family ipv6');
  const families: Array<'ipv4' | 'ipv6'> = family === 'both' ? (host.hasIpv6 ? ['ipv4', 'ipv6'] : ['ipv4']) : [family];
  const specs: PlannedCheck[] = families.map((ruleset) => ({
    ruleset,
    saved: { file: o.saved ?? join(host.stateDir, ruleset === 'ipv4' ? 'rules.v4' : 'rules.v6') },
    live: o.live !== undefined ? { file: o.live } : saveCommand(ruleset),
  }));
  const savedSets = o.savedSets ?? join(host.stateDir, 'ipsets');
  const sets = o.savedSets !== undefined || o.liveSets !== undefined || (!files && family === 'both' && host.exists(savedSets));
  if (sets) {
    const ruleset: RulesetName = 'ipsets';
    specs.push({
      ruleset,
      saved: { file: savedSets },
      live: o.liveSets !== undefined ? { file: o.liveSets } : { command: 'ipset', args: ['save'] },
    });
  }
  return { specs, filter: planFilter(o.ignoreChain ?? [], o.ignoreInterface ?? []) };
}
