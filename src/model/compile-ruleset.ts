import type { Config } from '../validate/validate-config.js';
import type { Address } from '../validate/values.js';
import { compileBase } from './compile-base.js';
import { compileDispatch } from './compile-dispatch.js';
import { SetRegistry } from './compile-rule.js';
import { compileService } from './compile-service.js';
import type { Ruleset } from './types.js';

export interface NamedSet {
  origin: string;
  addresses: Address[];
}

/** The whole firewall as data: pure, synchronous, no filesystem. */
export function compileRuleset(config: Config, namedSets: ReadonlyMap<string, NamedSet> = new Map()): Ruleset {
  const sets = new SetRegistry(namedSets);
  const base = compileBase(config.host, sets);
  const fragments = config.services.map((s) => compileService(s, config.host, sets));
  // The base declares every service's inbound chain: a fragment removed from the image
  // leaves an empty chain behind, never a jump to a missing one.
  for (const f of fragments) for (const c of f.inbound) base.chains.push({ family: c.family, table: 'filter', name: c.chain });
  return {
    base,
    fragments,
    sets: [...sets.sets.values()].sort((a, b) => a.name.localeCompare(b.name)),
    dispatch: compileDispatch(fragments),
  };
}
