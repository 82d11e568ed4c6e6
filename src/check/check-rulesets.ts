import { countMembers, diffIpsets } from './diff-ipsets.js';
import { diffDumps, tallyChanges } from './diff-dumps.js';
import { countRules, normaliseDump, type ChainFilter } from './normalise-dump.js';
import { DumpError, DumpReader } from './parse-dump.js';
import { parseIpsets } from './parse-ipsets.js';
import { describeSource, readState, type StateRead, type StateSource } from './read-state.js';
import type { Change, CheckReport, Dump, RulesetName, RulesetResult, SetDump } from './types.js';

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

type Parsed = { kind: 'rules'; dump: Dump } | { kind: 'sets'; sets: SetDump };

/** A DumpError that names the side it is about; anything else is not a problem of the input. */
function sideError(name: string, e: unknown): DumpError {
  if (e instanceof DumpError) return new DumpError(e.line, `${name}:${e.line}: ${e.message}`);
  throw e;
}

/** Compare two parsed sides: a pure function. */
function compareParsed(saved: Parsed, live: Parsed): { changes: Change[]; size: number; legacyTables: boolean } {
  if (saved.kind === 'sets' && live.kind === 'sets') {
    return { changes: diffIpsets(saved.sets, live.sets), size: countMembers(saved.sets), legacyTables: false };
  }
  if (saved.kind === 'rules' && live.kind === 'rules') {
    return { changes: diffDumps(saved.dump, live.dump), size: countRules(saved.dump), legacyTables: live.dump.legacyTables };
  }
  throw new Error('compareParsed: a ruleset compared with a set dump');
}

type SideOutcome = { error: { code: 2 | 3; message: string } } | { state: StateRead; parsed: Parsed | DumpError };

/**
 * Read one side and parse it as it comes: the saved file while iptables-save still runs, and
 * iptables-save's output while it is still writing. A dump that goes wrong is read to its end
 * all the same (a failed save is told before a bad line).
 */
async function readSide(ruleset: RulesetName, source: StateSource, filter: ChainFilter): Promise<SideOutcome> {
  const name = describeSource(source);
  const reader = ruleset === 'ipsets' ? undefined : new DumpReader();
  // Whatever push throws is kept until the read is over: thrown from a stream's data
  // handler, an internal error would end the process with 1, which `check` means as drift.
  let failure: unknown;
  const state = await readState(source, (piece) => {
    if (!reader || failure !== undefined) return;
    try {
      reader.push(piece);
    } catch (e) {
      failure = e;
    }
  });
  if ('error' in state) return { error: state.error };
  if (failure !== undefined) return { state, parsed: sideError(name, failure) };
  try {
    if (!reader) return { state, parsed: { kind: 'sets', sets: parseIpsets(state.text) } };
    return { state, parsed: { kind: 'rules', dump: normaliseDump(reader.end(), filter) } };
  } catch (e) {
    return { state, parsed: sideError(name, e) };
  }
}

export async function checkRuleset(spec: RulesetSpec, filter: ChainFilter): Promise<RulesetResult> {
  const result = emptyResult(spec);
  const [saved, live] = await Promise.all([readSide(spec.ruleset, spec.saved, filter), readSide(spec.ruleset, spec.live, filter)]);
  // Errors in the order a reader would meet them: reading the saved side, the live side, then their contents.
  if ('error' in saved) return { ...result, status: 'error', error: saved.error };
  if ('error' in live) return { ...result, status: 'error', error: live.error };
  if (saved.parsed instanceof DumpError) return { ...result, status: 'error', error: { code: 2, message: saved.parsed.message } };
  if (live.parsed instanceof DumpError) return { ...result, status: 'error', error: { code: 2, message: live.parsed.message } };
  const c = compareParsed(saved.parsed, live.parsed);
  const legacyTables = c.legacyTables || live.state.legacyTables;
  return {
    ...result,
    status: c.changes.length ? 'drift' : 'in-sync',
    size: c.size,
    changes: c.changes,
    tally: tallyChanges(c.changes),
    legacyTables,
    findings: [...(legacyTables ? [LEGACY_FINDING] : []), ...live.state.findings],
  };
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
