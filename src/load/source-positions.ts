import type { ParsedFile } from '../parse/parse-yaml.js';

/** Line and column, 1-based. */
export interface Position {
  line: number;
  col: number;
}

/**
 * Line and column of a key path in a source file, when the file has that key: a key that
 * exists is pointed at itself (`rules[1].source` → its `source:`), an index at its item.
 */
export type PositionOf = (file: string, path: readonly (string | number)[]) => Position | undefined;

/** line and col in one number: no object per place, for 10,000 files. */
const COLS = 2 ** 21;
const pack = (p: Position) => p.line * COLS + Math.min(p.col, COLS - 1);
const unpack = (n: number): Position => ({ line: Math.floor(n / COLS), col: n % COLS });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function hasPath(data: unknown, path: readonly (string | number)[]): boolean {
  let value = data;
  for (const key of path) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, key)) return false;
    value = (value as Record<string | number, unknown>)[key];
  }
  return true;
}

/**
 * The keys of a service rule that lint's findings point at (besides the rule itself);
 * a new finding that points at another key adds it here.
 */
export const PLACED_RULE_KEYS: readonly string[] = ['source', 'destination', 'dport', 'notrack'];
/** A rule's slots in a file's table: its own place, then one per placed key. */
const SLOTS = PLACED_RULE_KEYS.length + 1;

/**
 * Where things sit in the sources, kept from the one parse that gave the data (no file is
 * read or parsed again to find a place). A service file keeps only the places findings
 * and explanations point at — each rule, and its PLACED_RULE_KEYS — as numbers; gen-fw.yaml
 * (one file) keeps its parsed document and can place any key path.
 */
export class SourcePositions {
  /** Per service file: for rule i, slot i * SLOTS holds the rule's place and the next ones its placed keys' (0: none). */
  private readonly services = new Map<string, number[]>();
  private readonly hosts = new Map<string, ParsedFile>();

  /** A service file's places: `['rules', i]` and `['rules', i, key]` for the placed keys it has. */
  keepService(parsed: ParsedFile): void {
    const table: number[] = [];
    const data = parsed.data;
    if (isObject(data) && Array.isArray(data.rules)) {
      const rules = parsed.below(['rules']);
      const KEY = { key: true };
      // Indexed loops, no closure per rule: 1,000 files pass here in a render (see src/lint/intervals.ts).
      for (let i = 0; i < data.rules.length; i++) {
        const rule: unknown = data.rules[i];
        const at = rules.positionOf([i]);
        table[i * SLOTS] = at ? pack(at) : 0;
        if (!isObject(rule)) continue;
        for (let k = 0; k < PLACED_RULE_KEYS.length; k++) {
          const key = PLACED_RULE_KEYS[k]!;
          if (!Object.hasOwn(rule, key)) continue;
          const place = rules.positionOf([i, key], KEY);
          table[i * SLOTS + k + 1] = place ? pack(place) : 0;
        }
      }
    }
    // Numbers in an array of their own size (no map of key strings per file: 10,000 files).
    this.services.set(
      parsed.file,
      Array.from(table, (n) => n ?? 0),
    );
  }

  /** gen-fw.yaml: every key path. */
  keepHost(parsed: ParsedFile): void {
    this.hosts.set(parsed.file, parsed);
  }

  readonly positionOf: PositionOf = (file, path) => {
    const host = this.hosts.get(file);
    if (host) {
      if (!hasPath(host.data, path)) return undefined;
      return host.positionOf(path, { key: typeof path[path.length - 1] === 'string' });
    }
    const [rules, i, key] = path;
    if (rules !== 'rules' || typeof i !== 'number' || path.length > 3) return undefined;
    const slot = key === undefined ? 0 : typeof key === 'string' ? PLACED_RULE_KEYS.indexOf(key) + 1 : 0;
    if (slot === 0 && key !== undefined) return undefined;
    const at = this.services.get(file)?.[i * SLOTS + slot];
    return at ? unpack(at) : undefined;
  };
}
