import type { Problem } from '../errors.js';
import { CORE_1_2 } from './core-schema.js';
import jsyaml from 'js-yaml';
import { type Frame, type Position, positionIn, recorder, walkTo } from './positions.js';

/** A parsed YAML file that can say where any key path sits in the source. */
export interface ParsedFile {
  /** The path as shown to the user. */
  file: string;
  data: unknown;
  /**
   * Line and column (1-based) of the node at a key path, or of its nearest parent. With
   * `key: true`, a key that exists is pointed at itself rather than at its value.
   */
  positionOf(path: readonly PropertyKey[], opts?: { key?: boolean }): Position | undefined;
  /** positionOf for many key paths below `path` (the same answers), `path` walked once. */
  below(path: readonly PropertyKey[]): { positionOf(rest: readonly PropertyKey[], opts?: { key?: boolean }): Position | undefined };
}

export type ParseResult = { ok: true; parsed: ParsedFile } | { ok: false; problems: Problem[] };

/**
 * Aliases may repeat a node, not multiply the document: a file whose aliases expand to
 * more than this many nodes beyond what it spells out is refused ("billion laughs").
 */
const MAX_ALIAS_EXPANSION = 10_000;

/**
 * Parse one YAML file: one parse (js-yaml, YAML 1.2 core schema: see core-schema.ts) gives
 * both the data and, through its node listener, where every key and value sits. Anchors
 * and aliases are plain YAML; merge keys (`<<`) are not part of the core schema, so `<<`
 * is an ordinary (and unknown) key. Duplicate keys, tab indentation, unresolved aliases and
 * aliases that expand without bound are refused with their position.
 */
export function parseYamlFile(file: string, text: string): ParseResult {
  const rec = recorder(text);
  let data: unknown;
  try {
    data = jsyaml.load(text, { schema: CORE_1_2, filename: file, listener: rec.listener, json: false });
  } catch (e) {
    return { ok: false, problems: [syntaxProblem(file, text, e)] };
  }
  const root = rec.root();
  if (rec.expandedNodes() - rec.writtenNodes() > MAX_ALIAS_EXPANSION) {
    return {
      ok: false,
      problems: [{ file, message: `YAML error: Excessive alias count (the aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes)` }],
    };
  }
  const positionOf = (path: readonly PropertyKey[], opts: { key?: boolean } = {}): Position | undefined =>
    positionIn(text, rec.lineStarts(), root as Frame | undefined, path, opts.key ?? false);
  const below = (path: readonly PropertyKey[]) => {
    const walked = walkTo(text, rec.lineStarts, root as Frame | undefined, path);
    return { positionOf: (rest: readonly PropertyKey[], opts: { key?: boolean } = {}) => walked.positionOf(rest, opts.key ?? false) };
  };
  return { ok: true, parsed: { file, data, positionOf, below } };
}

interface YamlException {
  name: string;
  reason?: string;
  mark?: { line: number; column: number; position: number };
}

/** js-yaml's reasons, in the words gen-fw has always used for them. */
const REASONS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^duplicated mapping key/, () => 'YAML syntax error: Map keys must be unique'],
  [/^tab characters must not be used in indentation/, () => 'YAML syntax error: Tabs are not allowed as indentation'],
  [/^unidentified alias "(.*)"$/, (m) => `YAML error: Unresolved alias "${m[1]}" (no anchor &${m[1]} before it)`],
];

function syntaxProblem(file: string, text: string, e: unknown): Problem {
  const err = e as YamlException;
  if (err?.name !== 'YAMLException') throw e;
  const reason = err.reason ?? 'cannot parse';
  let line = err.mark ? err.mark.line + 1 : undefined;
  let col = err.mark ? err.mark.column + 1 : undefined;
  if (err.mark && /^unidentified alias/.test(reason)) {
    // js-yaml marks the end of the alias; point at its "*".
    const star = text.lastIndexOf('*', err.mark.position);
    if (star >= 0) col = star - text.lastIndexOf('\n', star - 1);
  }
  for (const [re, say] of REASONS) {
    const m = re.exec(reason);
    if (m) return { file, line, col, message: say(m) };
  }
  if (line !== undefined && col === undefined) line = undefined;
  return { file, line, col, message: `YAML syntax error: ${reason}` };
}
