import { SAVED_STATE_MARK } from '../model/chains.js';
import { DropCounter, type DropCounts } from './count-drops.js';
import { countMembers, diffIpsets } from './diff-ipsets.js';
import { diffDumps, tallyChanges } from './diff-dumps.js';
import { countRules, normaliseDump, type ChainFilter } from './normalise-dump.js';
import { DumpError, DumpReader } from './parse-dump.js';
import { DumpMatcher } from './match-dump.js';
import { parseIpsets } from './parse-ipsets.js';
import { rulesetLabel } from './format-text.js';
import { describeSource, readState, type StartedState, type StateRead, type StateSource } from './read-state.js';
import type { Change, CheckReport, Dump, RulesetName, RulesetResult, SetDump } from './types.js';

/** One comparison to make: a ruleset, its saved state and its live state (or their reads, begun). */
export interface RulesetSpec {
  ruleset: RulesetName;
  saved: StateSource | StartedState;
  live: StateSource | StartedState;
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
type RulesSide = { error: { code: 2 | 3; message: string } } | { state: StateRead; parsed: Dump | DumpError };

/** Parse what a reader was given; a DumpError names the side, anything else is thrown. */
function finishReader(name: string, reader: DumpReader, failure: unknown, filter: ChainFilter): Dump | DumpError {
  if (failure !== undefined) return sideError(name, failure);
  try {
    return normaliseDump(reader.end(), filter);
  } catch (e) {
    return sideError(name, e);
  }
}

/**
 * Read one side and parse it as it comes: the saved file while iptables-save still runs, and
 * iptables-save's output while it is still writing. A dump that goes wrong is read to its end
 * all the same (a failed save is told before a bad line). `onReadings` gets the lines as the
 * parser read them, once the dump parsed.
 */
async function readRules(
  source: StateSource | StartedState,
  filter: ChainFilter,
  onReadings: (r: readonly string[]) => void,
): Promise<RulesSide> {
  const reader = new DumpReader({ keepReadings: true });
  // Whatever push throws is kept until the read is over: thrown from a stream's data
  // handler, an internal error would end the process with 1, which `check` means as drift.
  let failure: unknown;
  const state = await readState(source, (piece) => {
    if (failure !== undefined) return;
    try {
      reader.push(piece);
    } catch (e) {
      failure = e;
    }
  });
  if ('error' in state) return { error: state.error };
  const parsed = finishReader(describeSource(source), reader, failure, filter);
  if (!(parsed instanceof DumpError)) onReadings(reader.readings ?? []);
  return { state, parsed };
}

/**
 * The live side: matched line by line against the saved one as it comes (DumpMatcher), and
 * parsed only from the first line that differs on (then as it comes, too). `finish` tells
 * the outcome once the saved side is read as well: 'same', or the parsed dump.
 */
async function readLiveRules(
  source: StateSource | StartedState,
  filter: ChainFilter,
  matcher: DumpMatcher,
): Promise<
  { error: { code: 2 | 3; message: string } } | { state: StateRead; finish: () => Dump | DumpError | 'same'; drops?: DropCounts }
> {
  let reader: DumpReader | undefined;
  const counter = new DropCounter();
  let failure: unknown;
  const parse = (text: string) => {
    if (failure !== undefined) return;
    try {
      (reader ??= new DumpReader()).push(text);
    } catch (e) {
      failure = e;
    }
  };
  const state = await readState(source, (piece) => {
    counter.push(piece);
    if (reader) return parse(piece);
    matcher.push(piece);
    if (!matcher.matching) parse(matcher.text());
  });
  if ('error' in state) return { error: state.error };
  return {
    state,
    drops: counter.end(),
    finish: () => {
      if (!reader && matcher.end()) return 'same';
      if (!reader) parse(matcher.text());
      return finishReader(describeSource(source), reader as DumpReader, failure, filter);
    },
  };
}

async function readSets(source: StateSource | StartedState): Promise<SideOutcome> {
  const state = await readState(source);
  if ('error' in state) return { error: state.error };
  try {
    return { state, parsed: { kind: 'sets', sets: parseIpsets(state.text) } };
  } catch (e) {
    return { state, parsed: sideError(describeSource(source), e) };
  }
}

interface BothSides {
  saved: SideOutcome;
  live: SideOutcome;
  /** The live dump's drop and audit counters, when it had counters. */
  drops?: DropCounts;
  /** The live dump read line for line as the saved one: in sync without a comparison. */
  same: boolean;
  /** iptables-nft's legacy warning was in the live dump (known without parsing it when `same`). */
  liveLegacy: boolean;
}

/** Both sides read at once; the live one matched against the saved one where it can be. */
async function readBoth(spec: RulesetSpec, filter: ChainFilter): Promise<BothSides> {
  if (spec.ruleset === 'ipsets') {
    const [saved, live] = await Promise.all([readSets(spec.saved), readSets(spec.live)]);
    return { saved, live, same: false, liveLegacy: false };
  }
  const matcher = new DumpMatcher();
  const [saved, live] = await Promise.all([
    readRules(spec.saved, filter, (readings) => matcher.setSaved(readings)),
    readLiveRules(spec.live, filter, matcher),
  ]);
  const rules = (parsed: Dump | DumpError): Parsed | DumpError => (parsed instanceof DumpError ? parsed : { kind: 'rules', dump: parsed });
  const savedSide: SideOutcome = 'error' in saved ? saved : { state: saved.state, parsed: rules(saved.parsed) };
  if ('error' in live) return { saved: savedSide, live, same: false, liveLegacy: false };
  // The matcher has the saved side's lines only when that parsed; without them the live side is parsed.
  const parsed = live.finish();
  const drops = parsed instanceof DumpError ? undefined : live.drops;
  // The same lines as the saved dump: it parses as the saved one did.
  if (parsed === 'same') {
    // Only a saved side that parsed gave the matcher its lines (see readRules).
    if ('error' in saved || saved.parsed instanceof DumpError) throw new Error('readBoth: matched against a saved side that did not parse');
    return {
      saved: savedSide,
      live: { state: live.state, parsed: rules(saved.parsed) },
      same: true,
      liveLegacy: matcher.legacyTables,
      drops,
    };
  }
  return { saved: savedSide, live: { state: live.state, parsed: rules(parsed) }, same: false, liveLegacy: false, drops };
}

/**
 * Why a saved ruleset cannot be checked although it parsed: it lacks the chain every state
 * iptables-init --save writes (an empty file, a bare ruleset), so in sync with it would
 * prove nothing. Undefined when it can be checked (ipsets: an empty file is no sets).
 */
function unmarkedSaved(spec: RulesetSpec, saved: Parsed): string | undefined {
  if (saved.kind !== 'rules' || saved.dump.tables.get(SAVED_STATE_MARK.table)?.has(SAVED_STATE_MARK.chain)) return undefined;
  const label = rulesetLabel(spec.ruleset);
  return `${describeSource(spec.saved)}: the saved ${label} state has no gen-fw chains (${SAVED_STATE_MARK.table}:${SAVED_STATE_MARK.chain}): was iptables-init --save ever run?`;
}

export async function checkRuleset(spec: RulesetSpec, filter: ChainFilter): Promise<RulesetResult> {
  const { saved, live, same, liveLegacy, drops } = await readBoth(spec, filter);
  // The live side's counters, as iptables-check has them: whenever there is a saved side to read.
  const result = { ...emptyResult(spec), ...(drops && !('error' in saved) ? { drops } : {}) };
  // Errors in the order a reader would meet them: reading the saved side, the live side, then their contents.
  if ('error' in saved) return { ...result, status: 'error', error: saved.error };
  if ('error' in live) return { ...result, status: 'error', error: live.error };
  if (saved.parsed instanceof DumpError) return { ...result, status: 'error', error: { code: 2, message: saved.parsed.message } };
  const unmarked = unmarkedSaved(spec, saved.parsed);
  if (unmarked) return { ...result, status: 'error', error: { code: 2, message: unmarked } };
  if (live.parsed instanceof DumpError) return { ...result, status: 'error', error: { code: 2, message: live.parsed.message } };
  const c = same
    ? { changes: [], size: saved.parsed.kind === 'rules' ? countRules(saved.parsed.dump) : 0, legacyTables: liveLegacy }
    : compareParsed(saved.parsed, live.parsed);
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
