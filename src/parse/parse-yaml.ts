import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { Problem } from '../errors.js';

/** A parsed YAML file that can say where any key path sits in the source. */
export interface ParsedFile {
  /** The path as shown to the user. */
  file: string;
  data: unknown;
  /** Line and column (1-based) of the node at a key path, or of its nearest parent. */
  positionOf(path: readonly PropertyKey[]): { line: number; col: number } | undefined;
}

export type ParseResult = { ok: true; parsed: ParsedFile } | { ok: false; problems: Problem[] };

export function parseYamlFile(file: string, text: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          file,
          line: pos?.line,
          col: pos?.col,
          message: `YAML syntax error: ${firstLine(e.message)}`,
        };
      }),
    };
  }
  const positionOf = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
      if (n > 0) {
        // For a key that exists, point at the key itself (values may be null).
        const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1) as unknown[], true);
        const key = findKeyNode(parent, path[n - 1]);
        if (key) return lineCounter.linePos(key);
      }
    }
    return undefined;
  };
  return { ok: true, parsed: { file, data: doc.toJS({ maxAliasCount: 100 }), positionOf } };
}

function findKeyNode(parent: unknown, key: PropertyKey | undefined): number | undefined {
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

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
