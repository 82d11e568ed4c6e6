import type { z } from 'zod';
import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import { didYouMean } from './did-you-mean.js';

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function problemAt(file: ParsedFile, path: readonly PropertyKey[], message: string): Problem {
  const pos = file.positionOf(path);
  return { file: file.file, line: pos?.line, col: pos?.col, key: path.length ? formatKeyPath(path) : undefined, message };
}

/** Turn zod's issues into problems with file positions and "did you mean" hints. */
export function problemsFromZod(file: ParsedFile, schema: z.ZodType, error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeysAt(schema, path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        const list = known.length ? ` (known keys: ${known.join(', ')})` : '';
        out.push(problemAt(file, [...path, key], hint ? `unknown key (did you mean "${hint}"?)` : `unknown key${list}`));
      }
      continue;
    }
    out.push(problemAt(file, path, describeIssue(issue)));
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  if (issue.code === 'invalid_union') {
    // Prefer the message of the branch that got furthest (our own messages are custom issues).
    for (const branch of issue.errors) {
      const custom = branch.find((i) => i.code === 'custom');
      if (custom) return custom.message;
    }
    return `${issue.message}`;
  }
  return issue.message;
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  valueType?: z.ZodType;
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** Peel wrappers (optional, default, union with false, ...) down to an object or array. */
function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
      return unwrap(def.innerType!);
    case 'pipe':
      return unwrap(def.in!);
    case 'union':
      return def.options!.flatMap(unwrap);
    default:
      return [schema];
  }
}

function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType[] = [schema];
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const s of current.flatMap(unwrap)) {
      const def = defOf(s);
      if (def.type === 'object' && typeof step === 'string' && def.shape?.[step]) next.push(def.shape[step]);
      if (def.type === 'array' && typeof step === 'number' && def.element) next.push(def.element);
      if (def.type === 'record' && def.valueType) next.push(def.valueType);
    }
    current = next;
  }
  for (const s of current.flatMap(unwrap)) {
    const def = defOf(s);
    if (def.type === 'object' && def.shape) return Object.keys(def.shape);
  }
  return [];
}
