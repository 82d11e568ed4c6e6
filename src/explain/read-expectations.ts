import type { Problem } from '../errors.js';
import { parseYamlFile } from '../parse/parse-yaml.js';
import { didYouMean } from '../validate/did-you-mean.js';
import { problemAt } from '../validate/problems.js';
import { show } from '../validate/values.js';
import { PACKET_KEYS, parsePacket, type Packet, type PacketDefaults, type UserLookup } from './packet.js';
import type { Verdict } from './walk.js';

export interface Expectation {
  packet: Packet;
  expect: Verdict;
  /** Where the entry starts, for the report. */
  line?: number;
}

const VERDICTS = ['accept', 'drop', 'reject'] as const;
const ENTRY_KEYS = ['packet', 'expect'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An expectations file: a YAML list of `{ packet: {...}, expect: accept|drop|reject }`.
 * Every problem is located (`file:line:col [2].packet.dport: ...`), all of them at once.
 */
export function readExpectations(
  file: string,
  text: string,
  lookupUser: UserLookup,
  defaults: PacketDefaults = {},
): { expectations: Expectation[]; problems: Problem[] } {
  const parsed = parseYamlFile(file, text);
  if (!parsed.ok) return { expectations: [], problems: parsed.problems };
  const f = parsed.parsed;
  const data = f.data;
  if (!Array.isArray(data)) {
    return {
      expectations: [],
      problems: [
        problemAt(
          f,
          [],
          `expected a list of { packet: {...}, expect: accept|drop|reject }, got ${data === null || data === undefined ? 'an empty file' : show(data)}`,
        ),
      ],
    };
  }
  if (data.length === 0)
    return {
      expectations: [],
      problems: [problemAt(f, [], 'holds no expectations (a list of { packet: {...}, expect: accept|drop|reject })')],
    };
  const problems: Problem[] = [];
  const expectations: Expectation[] = [];
  data.forEach((entry: unknown, i) => {
    if (!isMapping(entry)) {
      problems.push(problemAt(f, [i], 'expected a mapping { packet: {...}, expect: accept|drop|reject }'));
      return;
    }
    for (const key of Object.keys(entry)) {
      if (ENTRY_KEYS.includes(key)) continue;
      const hint = didYouMean(key, ENTRY_KEYS);
      problems.push(
        problemAt(f, [i, key], hint ? `unknown key (did you mean "${hint}"?)` : 'unknown key (known keys: packet, expect)', { key: true }),
      );
    }
    const expect = entry.expect;
    if (expect === undefined) problems.push({ ...problemAt(f, [i], 'is required (accept, drop or reject)'), key: `[${i}].expect` });
    else if (!(VERDICTS as readonly unknown[]).includes(expect)) {
      const hint = typeof expect === 'string' ? didYouMean(expect, VERDICTS) : undefined;
      problems.push(
        problemAt(f, [i, 'expect'], `${show(expect)} is not one of accept, drop, reject${hint ? ` (did you mean "${hint}"?)` : ''}`),
      );
    }
    if (!isMapping(entry.packet)) {
      problems.push(
        problemAt(f, [i, 'packet'], entry.packet === undefined ? 'is required' : `expected a mapping of ${PACKET_KEYS.join(', ')}`),
      );
      return;
    }
    const r = parsePacket(entry.packet, lookupUser, defaults);
    for (const p of r.problems) {
      const known = (PACKET_KEYS as readonly string[]).includes(p.key);
      const at = known && entry.packet[p.key] === undefined ? [i, 'packet'] : [i, 'packet', p.key];
      problems.push({ ...problemAt(f, at, p.message, { key: !known }), key: `[${i}].packet.${p.key}` });
    }
    if (r.packet && (VERDICTS as readonly unknown[]).includes(expect)) {
      expectations.push({ packet: r.packet, expect: expect as Verdict, line: f.positionOf([i])?.line });
    }
  });
  return { expectations, problems };
}
