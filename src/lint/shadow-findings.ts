import type { Finding } from './finding.js';
import type { Places } from './places.js';
import { placeText } from './places.js';
import type { Verdict } from './read-rule.js';
import type { RuleReach, Taker } from './reachability.js';
import { formatPacket } from './witness.js';

const PAST: Record<Verdict, string> = { accept: 'accepted', drop: 'dropped', reject: 'rejected', return: 'handed back to Docker' };

export const unreachable = (rs: readonly RuleReach[]): boolean => rs.length > 0 && rs.every((r) => !r.reachable);

/**
 * shadowed and redundant: a service rule none of whose action rules a packet can reach.
 * Redundant when every rule that takes its packets first gives the same verdict; shadowed
 * when any gives another.
 */
export function shadowFindings(groups: ReadonlyMap<string, RuleReach[]>, places: Places): Finding[] {
  const out: Finding[] = [];
  for (const rs of groups.values()) {
    if (!unreachable(rs)) continue;
    const first = rs[0]!;
    const verdict = first.verdict;
    const takers = new Map<string, Taker>();
    // A rule split in parts (addresses, families) may cover its own later parts: name only others.
    for (const r of rs)
      for (const t of r.takers) if (t.rule.group !== first.rule.group && !takers.has(t.rule.group)) takers.set(t.rule.group, t);
    const list = [...takers.values()];
    const related = list.map((t) => places.of(t.rule.origin));
    const w = rs.find((r) => r.witness && r.witnessTaker && r.witnessTaker.rule.group !== first.rule.group);
    const witness = w?.witness ? formatPacket(w.witness) : undefined;
    const same = list.every((t) => t.verdict === verdict);
    let by: string;
    if (list.length === 1) {
      by = `${same ? 'already ' : ''}${PAST[list[0]!.verdict]} before it by ${placeText(related[0]!)}${witness ? ` (e.g. ${witness})` : ''}`;
    } else {
      const names = list.map((t, i) => `${placeText(related[i]!)} (${t.verdict})`);
      const proof =
        w && witness ? `, e.g. ${witness} is ${PAST[w.witnessTaker!.verdict]} by ${placeText(places.of(w.witnessTaker!.rule.origin))}` : '';
      by = `${same ? `already ${PAST[verdict]}` : 'taken'} before it by ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}${proof}`;
    }
    const message = same
      ? `redundant: changes nothing: every packet it would ${verdict} is ${by}`
      : `shadowed: can never match: every packet it would ${verdict} is ${by}${list.every((t) => t.rule.origin.kind === 'service') ? `; move it before ${list.length === 1 ? 'that rule' : 'them'}` : ''}`;
    out.push({ kind: same ? 'redundant' : 'shadowed', at: places.of(first.rule.origin), message, related, witness });
  }
  return out;
}
