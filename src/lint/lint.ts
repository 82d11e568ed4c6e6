import type { Problem } from '../errors.js';
import type { PositionOf } from '../load/source-positions.js';
import { compileRulesetStream, type NamedSet } from '../model/compile-ruleset.js';
import type { IpSet, Ruleset, RulesetStream } from '../model/types.js';
import type { Config } from '../validate/validate-config.js';
import { exposedFindings, sshFindings } from './exposure-findings.js';
import { familyFindings } from './family-findings.js';
import { notrackFindings } from './notrack-findings.js';
import { byPlace, type Finding } from './finding.js';
import { lintFragment, pathsOf, type LintFragment, type LintRuleset } from './paths.js';
import { Places } from './places.js';
import { analysePath, type RuleReach } from './reachability.js';
import { shadowFindings } from './shadow-findings.js';
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

type Kept = LintRuleset & { sets: readonly IpSet[] };
type AnalyseOpts = { hints?: readonly string[]; witnesses?: boolean };

function analyseKept(ruleset: Kept, opts: AnalyseOpts = {}): RuleReach[] {
  const sets = knownSets(ruleset.sets);
  return [...pathsOf(ruleset)].flatMap((p) => analysePath(p, { sets, ...opts }).reach);
}

/**
 * The config rules (groups) none of whose action rules a packet can reach, each with its
 * reaches: what the findings need. One path is analysed at a time and only these are kept
 * (10,000 services have some 50,000 action rules).
 */
function unreachableGroups(ruleset: Kept): Map<string, RuleReach[]> {
  const sets = knownSets(ruleset.sets);
  // null: some action rule of the group is reachable.
  const groups = new Map<string, RuleReach[] | null>();
  for (const path of pathsOf(ruleset)) {
    const reach = analysePath(path, { sets }).reach;
    for (let i = 0; i < reach.length; i++) {
      const r = reach[i]!;
      const list = groups.get(r.rule.group);
      if (r.reachable) groups.set(r.rule.group, null);
      else if (list === undefined) groups.set(r.rule.group, [r]);
      else list?.push(r);
    }
  }
  const out = new Map<string, RuleReach[]>();
  for (const [group, list] of groups) if (list) out.set(group, list);
  return out;
}

/** Reachability of every service action rule of a whole ruleset, in every family and direction. */
export function analyseRuleset(ruleset: Pick<Ruleset, 'base' | 'fragments' | 'sets'>, opts: AnalyseOpts = {}): RuleReach[] {
  return analyseKept({ base: ruleset.base, sets: ruleset.sets, fragments: ruleset.fragments.map(lintFragment) }, opts);
}

/** Every finding, in source order. Pure: positions come from `positions`. */
export function lintRuleset(config: Config, ruleset: Kept, positions: PositionOf): Finding[] {
  const places = new Places(positions, config.hostFile?.file);
  const groups = unreachableGroups(ruleset);
  const isUnreachable = (service: string, index: number) => groups.has(`${service}:${index}`);
  return [
    ...shadowFindings(groups, places),
    ...exposedFindings(config.services, places, isUnreachable),
    ...sshFindings(config.host, config.services, places, isUnreachable),
    ...familyFindings(config.services, ruleset.fragments, config.host.ipv6, places, isUnreachable),
    ...notrackFindings(config.services, places),
  ].sort(byPlace);
}

/**
 * Lint riding on a model stream: each fragment is seen as whoever consumes the stream
 * (render) compiles it, and only what lint reads of it is kept (lintFragment), so the
 * model is compiled once and the full fragments never held at once.
 */
export function lintAlong(stream: RulesetStream): { stream: RulesetStream; findings(config: Config, positions: PositionOf): Finding[] } {
  const kept: LintFragment[] = [];
  function* fragments() {
    for (const f of stream.fragments) {
      kept.push(lintFragment(f));
      yield f;
    }
  }
  const along: RulesetStream = { fragments: fragments(), rest: () => stream.rest(), dispatch: () => stream.dispatch() };
  return {
    stream: along,
    findings: (config, positions) => lintRuleset(config, { fragments: kept, ...stream.rest() }, positions),
  };
}

/** Lint a validated config: compile its model (once) and decide. What `gen-fw lint` runs. */
export function lintConfig(config: Config, namedSets: ReadonlyMap<string, NamedSet>, positions: PositionOf): Finding[] {
  const lint = lintAlong(compileRulesetStream(config, namedSets));
  for (const f of lint.stream.fragments) void f;
  return lint.findings(config, positions);
}

/** Findings as problems, for a reporter's warnings. */
export function findingProblems(findings: readonly Finding[]): Problem[] {
  return findings.map((f) => ({ file: f.at.file, line: f.at.line, col: f.at.col, key: f.at.key, message: f.message }));
}
