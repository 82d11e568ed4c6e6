import jsyaml from 'js-yaml';
import { createRequire } from 'node:module';
import type { Document } from 'yaml';
import type { Problem } from '../errors.js';

/**
 * The `yaml` library, loaded on first use: most renders never need it (see below), and
 * loading it costs as much as parsing a few hundred service files. It ships CommonJS for
 * Node, so a synchronous require gives the same module an import would.
 */
let yamlLib: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLib;
}

/** A parsed YAML file that can say where any key path sits in the source. */
export interface ParsedFile {
  /** The path as shown to the user. */
  file: string;
  data: unknown;
  /**
   * Line and column (1-based) of the node at a key path, or of its nearest parent. With
   * `key: true`, a key that exists is pointed at itself rather than at its value.
   */
  positionOf(path: readonly PropertyKey[], opts?: { key?: boolean }): { line: number; col: number } | undefined;
}

export type ParseResult = { ok: true; parsed: ParsedFile } | { ok: false; problems: Problem[] };

/**
 * Parse one YAML file. Most files take the fast path (js-yaml, core schema, no positions);
 * the positions people need in messages come from a full parse with the `yaml` library,
 * done only when something asks for one. Anything js-yaml refuses, and any file with
 * anchors, aliases or merge keys, takes the full path from the start (it also bounds
 * alias expansion).
 */
export function parseYamlFile(file: string, text: string): ParseResult {
  if (!/[&*]|<</.test(text)) {
    try {
      const data = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, filename: file });
      let full: ParseResult | undefined;
      const positionOf: ParsedFile['positionOf'] = (path, opts) => {
        full ??= parseYamlFileFully(file, text);
        return full.ok ? full.parsed.positionOf(path, opts) : undefined;
      };
      return { ok: true, parsed: { file, data, positionOf } };
    } catch {
      // Fall through: the full parse says what is wrong, and where.
    }
  }
  return parseYamlFileFully(file, text);
}

function parseYamlFileFully(file: string, text: string): ParseResult {
  const { LineCounter, parseDocument, isNode } = yaml();
  const lineCounter = new LineCounter();
  // logLevel 'error': a collection used as a key becomes an unknown-key problem, not a process warning.
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        // Without prettyErrors, yaml leaves linePos unset; the offset is always there.
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, message: `YAML syntax error: ${firstLine(e.message)}` };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias to a missing anchor, or an alias bomb: input errors, not internal ones.
    const at = unresolvedAlias(doc);
    const pos = at === undefined ? undefined : lineCounter.linePos(at);
    return { ok: false, problems: [{ file, line: pos?.line, col: pos?.col, message: `YAML error: ${firstLine((e as Error).message)}` }] };
  }
  const keyOffset = (path: readonly PropertyKey[]): number | undefined => {
    if (path.length === 0) return undefined;
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true);
    return findKeyNode(parent, path[path.length - 1]);
  };
  const positionOf = (path: readonly PropertyKey[], opts: { key?: boolean } = {}) => {
    const own = opts.key ? keyOffset(path) : undefined;
    if (own !== undefined) return lineCounter.linePos(own);
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
      // For a key that exists, point at the key itself (values may be null).
      const key = keyOffset(path.slice(0, n));
      if (key !== undefined) return lineCounter.linePos(key);
    }
    return undefined;
  };
  return { ok: true, parsed: { file, data, positionOf } };
}

function findKeyNode(parent: unknown, key: PropertyKey | undefined): number | undefined {
  const { isNode } = yaml();
  if (!parent || typeof parent !== 'object' || !('items' in parent)) return undefined;
  const items = (parent as { items: unknown[] }).items;
  for (const item of items) {
    if (item && typeof item === 'object' && 'key' in item) {
      const k = (item as { key: unknown }).key;
      if (isNode(k) && 'value' in k && (k as { value: unknown }).value === key && k.range) return k.range[0];
    }
  }
  return undefined;
}

/** Offset of the first alias whose anchor is missing, if any. */
function unresolvedAlias(doc: Document): number | undefined {
  const { isAlias, visit } = yaml();
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (isAlias(node) && node.resolve(doc) === undefined && node.range) {
        at = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return at;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
