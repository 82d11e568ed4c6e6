import { readFileSync } from 'node:fs';
import { parseYamlFile, type ParsedFile } from '../parse/parse-yaml.js';

/** Line and column (1-based) of a key path in a source file, when the file has that key. */
export type PositionOf = (file: string, path: readonly (string | number)[]) => { line: number; col: number } | undefined;

/**
 * The one place lint learns where things are in the sources: the validated config keeps
 * values only, so the files (by the names the config shows) are parsed again, and only
 * when a finding needs a position.
 */
export function filePositions(readText: (file: string) => string = (f) => readFileSync(f, 'utf8')): PositionOf {
  const cache = new Map<string, ParsedFile | undefined>();
  return (file, path) => {
    if (!cache.has(file)) {
      let parsed: ParsedFile | undefined;
      try {
        const r = parseYamlFile(file, readText(file));
        parsed = r.ok ? r.parsed : undefined;
      } catch {
        parsed = undefined;
      }
      cache.set(file, parsed);
    }
    const parsed = cache.get(file);
    if (!parsed || !hasPath(parsed.data, path)) return undefined;
    return parsed.positionOf(path, { key: typeof path[path.length - 1] === 'string' });
  };
}

function hasPath(data: unknown, path: readonly (string | number)[]): boolean {
  let value = data;
  for (const key of path) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, key)) return false;
    value = (value as Record<string | number, unknown>)[key];
  }
  return true;
}
