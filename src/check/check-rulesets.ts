import { countMembers, diffIpsets } from './diff-ipsets.js';
import { diffDumps, tallyChanges } from './diff-dumps.js';
import { countRules, normaliseDump, type ChainFilter } from './normalise-dump.js';
import { DumpError, parseDump } from './parse-dump.js';
import { parseIpsets } from './parse-ipsets.js';
import { describeSource, readState, type StateSource } from './read-state.js';
import type { Change, CheckReport, RulesetName, RulesetResult } from './types.js';

/** One comparison to make: a ruleset, its saved state and its live state. */
export interface RulesetSpec {
  ruleset: RulesetName;
  saved: StateSource;
  live: StateSource;
}

export const LEGACY_FINDING = 'iptables-legacy tables present: their rules are not checked (see iptables-legacy-save)';

function emptyResult(spec: RulesetSpec): RulesetResult {
  return {
    ruleset: spec.ruleset,
    saved: describeSource(spec.saved),
    live: describeSource(spec.live),
    status: 'in-sync',
    size: 0,
    changes: [],
    tally: { rulesAdded: 0, rulesRemoved: 0, policiesChanged: 0, chainsAdded: 0, chainsRemoved: 0 },
    legacyTables: false,
    findings: [],
  };
}

/** Compare texts already read: a pure function (the corpus tests call the CLI, which ends here). */
export function compareTexts(
  ruleset: RulesetName,
  saved: { name: string; text: string },
  live: { name: string; text: string },
  filter: ChainFilter,
): { changes: Change[]; size: number; legacyTables: boolean } {
  if (ruleset === 'ipsets') {
    const s = parseIpsets(saved.text);
    return { changes: diffIpsets(s, parseIpsets(live.text)), size: countMembers(s), legacyTables: false };
  }
  const parse = (side: { name: string; text: string }) => {
    try {
      return normaliseDump(parseDump(side.text), filter);
    } catch (e) {
      if (e instanceof DumpError) throw new DumpError(e.line, `${side.name}:${e.line}: ${e.message}`);
      throw e;
    }
  };
  const s = parse(saved);
  const l = parse(live);
  return { changes: diffDumps(s, l), size: countRules(s), legacyTables: l.legacyTables };
}

export async function checkRuleset(spec: RulesetSpec, filter: ChainFilter): Promise<RulesetResult> {
  const result = emptyResult(spec);
  const [saved, live] = await Promise.all([readState(spec.saved), readState(spec.live)]);
  if ('error' in saved) return { ...result, status: 'error', error: saved.error };
  if ('error' in live) return { ...result, status: 'error', error: live.error };
  try {
    const c = compareTexts(spec.ruleset, { name: result.saved, text: saved.text }, { name: result.live, text: live.text }, filter);
    const legacyTables = c.legacyTables || live.legacyTables;
    return {
      ...result,
      status: c.changes.length ? 'drift' : 'in-sync',
      size: c.size,
      changes: c.changes,
      tally: tallyChanges(c.changes),
      legacyTables,
      findings: [...(legacyTables ? [LEGACY_FINDING] : []), ...live.findings],
    };
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    return { ...result, status: 'error', error: { code: 2, message: e.message } };
  }
}

export async function checkRulesets(specs: readonly RulesetSpec[], filter: ChainFilter): Promise<CheckReport> {
  const results = await Promise.all(specs.map((s) => checkRuleset(s, filter)));
  return { results, checkedAt: Math.floor(Date.now() / 1000) };
}

/** 1 when anything drifted (a fact, even if another ruleset could not be checked), else the worst error, else 0. */
export function exitCodeOf(report: CheckReport): number {
  if (report.results.some((r) => r.status === 'drift')) return 1;
  return Math.max(0, ...report.results.map((r) => r.error?.code ?? 0));
}
