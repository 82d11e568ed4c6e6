import { BoxIndex } from './box-index.js';
import { DIMS, intersectBox, subtractBox, subtractFromAll, type Box, type Dim } from './boxes.js';
import { isEmpty, subtract, type IntervalSet } from './intervals.js';
import { interfacePatterns, type Path, type PathRule } from './paths.js';
import { everything, readRule, subjectBox, type Verdict } from './read-rule.js';
import { pickPacket, type Packet } from './witness.js';
import type { KnownSet } from './universe.js';
import { Universe } from './universe.js';

/** Beyond this many pieces left of one rule, lint stops and calls it reachable (never wrongly shadowed). */
const MAX_PIECES = 4000;

export interface Taker {
  rule: PathRule;
  verdict: Verdict;
}

/** One action rule of the model (the rule that gives a config rule's verdict in one family and combination). */
export interface RuleReach {
  rule: PathRule;
  verdict: Verdict;
  reachable: boolean;
  /** Reachable: a packet that reaches it (certain unless lint could not read an earlier rule it meets). Shadowed: a packet an earlier rule takes. */
  witness?: Packet;
  /** Shadowed: the earlier rules that take its packets, in the order they do. */
  takers: readonly Taker[];
  /** For a shadowed rule, the rule that takes the witness. */
  witnessTaker?: Taker;
}

/**
 * A rule taken away from every subject before it is decided (loopback's). Such a rule
 * narrows one dimension only (`-i lo`): then taking it away is one subtraction on that
 * dimension, the same for most subjects and made once.
 */
class Quiet {
  private readonly dim: Dim | undefined;
  private readonly left = new Map<IntervalSet, IntervalSet>();

  constructor(
    readonly box: Box,
    u: Universe,
  ) {
    const all = everything(u, false);
    const narrowed = DIMS.filter((d) => box[d] !== all[d]);
    this.dim = narrowed.length === 1 ? narrowed[0] : undefined;
  }

  /** `subject` without this rule's packets, as disjoint boxes. */
  takeFrom(subject: Box): Box[] {
    const d = this.dim;
    if (d === undefined) return subtractBox(subject, this.box);
    let rest = this.left.get(subject[d]);
    if (rest === undefined) this.left.set(subject[d], (rest = subtract(subject[d], this.box[d])));
    return isEmpty(rest) ? [] : [{ ...subject, [d]: rest }];
  }
}

/** The takers of every reachable rule: none (one array for all of them). */
const NONE: readonly Taker[] = [];

interface Earlier {
  rule: PathRule;
  box: Box;
  verdict: Verdict;
}

export interface AnalyseOptions {
  sets: ReadonlyMap<string, KnownSet>;
  /** Addresses a witness should use when it can (the test's own pool, or documentation addresses). */
  hints?: readonly string[];
  /** Find a witness for reachable rules too (the kernel test wants them; findings do not). */
  witnesses?: boolean;
}

/**
 * Which of a path's service rules a packet can reach, decided exactly on boxes: a rule is
 * unreachable when the rules before it that take every packet they match (read in full,
 * with a verdict, not rate-limited) together hold every packet it matches.
 */
export function analysePath(path: Path, opts: AnalyseOptions): { universe: Universe; reach: RuleReach[] } {
  const u = new Universe(path.family, opts.sets, interfacePatterns(path));
  const takers = new BoxIndex<Earlier>();
  /** Earlier rules that may take some packets lint cannot name: a witness keeps away from them. */
  const maybe = new BoxIndex<{ box: Box }>();
  const reach: RuleReach[] = [];
  /** Loopback: it takes every packet on lo, which is never what a service rule is about; not named unless it takes all. */
  const quiet: Quiet[] = [];
  const rules = path.rules;
  for (let r = 0; r < rules.length; r++) {
    const pr = rules[r]!;
    const earlierView = readRule(pr.rule.args, u, false);
    if (earlierView.matchesNothing) continue;
    const verdict = earlierView.verdict;
    if (pr.origin.kind === 'service' && verdict && verdict !== 'return' && !earlierView.opaque) {
      const box = subjectBox(earlierView, u);
      let away: Box[] = [box];
      for (let q = 0; q < quiet.length; q++) away = away.length === 1 ? quiet[q]!.takeFrom(away[0]!) : subtractFromAll(away, quiet[q]!.box);
      const subject = away.length === 1 ? away[0]! : box;
      reach.push(decide(pr, verdict, subject, takers.near(subject), () => maybe.near(subject).map((m) => m.box), u, opts));
    }
    if (verdict && earlierView.understood && !pr.limited) {
      takers.add({ rule: pr, box: earlierView.box, verdict });
      if (pr.origin.kind === 'base' && pr.origin.tag === 'loopback') quiet.push(new Quiet(earlierView.box, u));
    } else if (verdict || earlierView.jump) maybe.add({ box: earlierView.box });
  }
  return { universe: u, reach };
}

function decide(
  pr: PathRule,
  verdict: Verdict,
  box: Box,
  earlier: readonly Earlier[],
  maybe: () => Box[],
  u: Universe,
  opts: AnalyseOptions,
): RuleReach {
  const hints = opts.hints;
  let left: Box[] = [box];
  // Indexed loops, and arrays made only once a rule meets: most earlier rules never do (see intervals.ts on iterators).
  let takers: Taker[] | undefined;
  let firstTaken: Box[] | undefined;
  let witnessTaker: Taker | undefined;
  for (let k = 0; k < earlier.length; k++) {
    const e = earlier[k]!;
    let taken: Box[] | undefined;
    for (let n = 0; n < left.length; n++) {
      const x = intersectBox(left[n]!, e.box);
      if (x) (taken ??= []).push(x);
    }
    if (!taken) continue;
    const t = { rule: e.rule, verdict: e.verdict };
    (takers ??= []).push(t);
    if (!firstTaken) {
      firstTaken = taken;
      witnessTaker = t;
    }
    left = subtractFromAll(left, e.box);
    if (left.length === 0) {
      return { rule: pr, verdict, reachable: false, takers, witness: pickAwayFrom(firstTaken, maybe(), u, hints), witnessTaker };
    }
    if (left.length > MAX_PIECES) return { rule: pr, verdict, reachable: true, takers: NONE, witness: undefined, witnessTaker: undefined };
  }
  return {
    rule: pr,
    verdict,
    reachable: true,
    takers: NONE,
    witness: opts.witnesses ? pickAwayFrom(left, maybe(), u, hints) : undefined,
    witnessTaker: undefined,
  };
}

/** A packet from `boxes`, outside the rules lint could not read when there is one. */
function pickAwayFrom(boxes: readonly Box[], maybe: readonly Box[], u: Universe, hints?: readonly string[]): Packet | undefined {
  let clear: Box[] = [...boxes];
  for (const m of maybe) {
    clear = subtractFromAll(clear, m);
    if (clear.length === 0 || clear.length > MAX_PIECES) break;
  }
  if (clear.length > 0 && clear.length <= MAX_PIECES) return pickPacket(clear, u, hints, true);
  return pickPacket(boxes, u, hints, false);
}
