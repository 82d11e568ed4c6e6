import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import type { Issue } from './spec.js';
import { show } from './value-error.js';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `rules[0].dport`; a key that is not a plain word is shown quoted (it may hold anything). */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (!PLAIN_KEY.test(String(p))) out += `[${show(String(p))}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** A problem at a key path of a file, with the line and column the parser saw it at. */
export function problemAt(file: ParsedFile, path: readonly PropertyKey[], message: string, opts: { key?: boolean } = {}): Problem {
  const pos = file.positionOf(path, opts);
  return { file: file.file, line: pos?.line, col: pos?.col, key: path.length ? formatKeyPath(path) : undefined, message };
}

/** The validator's issues (spec.ts) as problems of a file. */
export function problemsOf(file: ParsedFile, issues: readonly Issue[]): Problem[] {
  return issues.map((i) => problemAt(file, i.path, i.message, { key: i.key ?? false }));
}
