import type { Config } from '../validate/validate-config.js';
import type { Address } from '../validate/values.js';
import { compileBase } from './compile-base.js';
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
  return { base, fragments, sets: [...sets.sets.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}
