import { FIRST_JUMPS, builtinChainWords, dockerOwnRulesRegex, globsToRegex, type Ownership } from '../shared/ownership.js';

/**
 * The ownership facts as the scripts' settings read them (templates/partials/
 * ownership-settings.hbs): the globs for the comments, the regexes for the runtime.
 */
export interface OwnershipSettings {
  ignoreGlobs: string;
  ignoreRegex: string;
  ownedGlobs: string;
  ownedRegex: string;
  ignoreIfaceGlobs: string;
  ignoreIfacesRegex: string;
  builtinChains: string;
  ignoreRulesRegex: string;
  /** iptables-init only: the jumps that must be first in their chain ("table:CHAIN:TARGET ..."). */
  firstJumps: string;
}

export function ownershipSettings(o: Ownership): OwnershipSettings {
  return {
    ignoreGlobs: o.ignoreChains.join(' ') || '(none)',
    ignoreRegex: globsToRegex(o.ignoreChains),
    ownedGlobs: o.ownedChains.join(' '),
    ownedRegex: globsToRegex(o.ownedChains),
    ignoreIfaceGlobs: o.dockerBridges.join(' '),
    ignoreIfacesRegex: globsToRegex(o.dockerBridges),
    builtinChains: builtinChainWords(),
    ignoreRulesRegex: o.foreignRules ?? dockerOwnRulesRegex(),
    firstJumps: FIRST_JUMPS.join(' '),
  };
}
