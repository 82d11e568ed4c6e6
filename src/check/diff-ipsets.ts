import { byteOrder } from './diff-dumps.js';
import type { Change, SetDump } from './types.js';

/** Saved → live, set by set: definitions (as policies), sets (as chains), members (as rules). */
export function diffIpsets(saved: SetDump, live: SetDump): Change[] {
  const names = [
    ...new Set([...saved.definitions.keys(), ...saved.members.keys(), ...live.definitions.keys(), ...live.members.keys()]),
  ].sort(byteOrder);
  const changes: Change[] = [];
  for (const chain of names) {
    const s = saved.definitions.get(chain);
    const l = live.definitions.get(chain);
    if (s !== undefined && l === undefined) changes.push({ kind: 'chain-removed', table: 'set', chain });
    else if (s === undefined && l !== undefined) changes.push({ kind: 'chain-added', table: 'set', chain });
    else if (s !== l && s !== undefined && l !== undefined) changes.push({ kind: 'policy', table: 'set', chain, saved: s, live: l });
    const sm = saved.members.get(chain) ?? new Set<string>();
    const lm = live.members.get(chain) ?? new Set<string>();
    for (const rule of [...sm].filter((m) => !lm.has(m)).sort(byteOrder)) changes.push({ kind: 'rule-removed', table: 'set', chain, rule });
    for (const rule of [...lm].filter((m) => !sm.has(m)).sort(byteOrder)) changes.push({ kind: 'rule-added', table: 'set', chain, rule });
  }
  return changes;
}

export function countMembers(sets: SetDump): number {
  let n = 0;
  for (const m of sets.members.values()) n += m.size;
  return n;
}
