import type { Problem } from '../errors.js';
import { compileRuleset, type NamedSet } from '../model/compile-ruleset.js';
import type { IpSet, Ruleset } from '../model/types.js';
import type { Config } from '../validate/validate-config.js';
import { exposedFindings, sshFindings } from './exposure-findings.js';
import { familyFindings } from './family-findings.js';
import { notrackFindings } from './notrack-findings.js';
import { byPlace, type Finding } from './finding.js';
import { pathsOf } from './paths.js';
import { Places } from './places.js';
import { analysePath, type RuleReach } from './reachability.js';
import { groupReach, shadowFindings, unreachable } from './shadow-findings.js';
import { filePositions, type PositionOf } from './source-positions.js';
import type { KnownSet } from './universe.js';

/** The sets as lint knows them: gen-fw's own (long lists) exactly; named ones by name and file. */
export function knownSets(sets: readonly IpSet[]): Map<string, KnownSet> {
  return new Map(
    sets.map((s) => {
      const auto = s.name.startsWith('gfw-auto-');
      const display = auto ? `the address list of ${s.origin}` : `@${s.name.replace(/^gfw-/, '').replace(/-v[46]$/, '')}`;
      return [s.name, { name: display, members: s.members, exact: auto }];
    }),
  );
}

/** Reachability of every service action rule, in every family and direction. */
export function analyseRuleset(ruleset: Pick<Ruleset, 'base' | 'fragments' | 'sets'>, opts: { hints?: readonly string[]; witnesses?: boolean } = {}): RuleReach[] {
  const sets = knownSets(ruleset.sets);
  return pathsOf(ruleset).flatMap((p) => analysePath(p, { sets, ...opts }).reach);
}

/** Every finding, in source order. Pure: positions come from `positions`. */
export function lintRuleset(config: Config, ruleset: Pick<Ruleset, 'base' | 'fragments' | 'sets'>, positions: PositionOf): Finding[] {
  const places = new Places(positions, config.hostFile?.file);
  const groups = groupReach(analyseRuleset(ruleset));
  const isUnreachable = (service: string, index: number) => unreachable(groups.get(`${service}:${index}`) ?? []);
  return [
    ...shadowFindings(groups, places),
    ...exposedFindings(config.services, places, isUnreachable),
    ...sshFindings(config.host, config.services, places, isUnreachable),
    ...familyFindings(config.services, ruleset.fragments, config.host.ipv6, places, isUnreachable),
    ...notrackFindings(config.services, places),
  ].sort(byPlace);
}

/** Lint a validated config: compile its model and decide. What `gen-fw lint` and `render` share. */
export function lintConfig(config: Config, namedSets: ReadonlyMap<string, NamedSet>, positions: PositionOf = filePositions()): Finding[] {
  return lintRuleset(config, compileRuleset(config, namedSets), positions);
}

/** Findings as problems, for a reporter's warnings. */
export function findingProblems(findings: readonly Finding[]): Problem[] {
  return findings.map((f) => ({ file: f.at.file, line: f.at.line, col: f.at.col, key: f.at.key, message: f.message }));
}
