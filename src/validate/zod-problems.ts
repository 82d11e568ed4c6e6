import type { z } from 'zod';
import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import { didYouMean } from './did-you-mean.js';
import { show } from './values.js';

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

export function problemAt(file: ParsedFile, path: readonly PropertyKey[], message: string, opts: { key?: boolean } = {}): Problem {
  const pos = file.positionOf(path, opts);
  return { file: file.file, line: pos?.line, col: pos?.col, key: path.length ? formatKeyPath(path) : undefined, message };
}

/** Turn zod's issues into problems with file positions and "did you mean" hints. */
export function problemsFromZod(file: ParsedFile, schema: z.ZodType, error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues.flatMap((i) => deepest(i, []))) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeysAt(schema, path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        const list = known.length ? ` (known keys: ${known.join(', ')})` : '';
        out.push(problemAt(file, [...path, key], hint ? `unknown key (did you mean "${hint}"?)` : `unknown key${list}`, { key: true }));
      }
      continue;
    }
    out.push(problemAt(file, path, describeIssue(issue), { key: issue.code === 'invalid_key' }));
  }
  return out;
}

type Issue = z.core.$ZodIssue;

/**
 * A union's own issue says only "invalid input"; when one branch got into the value (our
 * value parsers' messages, or a key inside a mapping), report that branch's issues instead,
 * at their full paths.
 */
function deepest(issue: Issue, prefix: readonly PropertyKey[]): Issue[] {
  const path = [...prefix, ...(issue.path as PropertyKey[])];
  if (issue.code === 'invalid_union') {
    const shapeFits = (b: Issue[]) => b.some((i) => i.path.length > 0 || (i.code !== 'invalid_type' && i.code !== 'invalid_value'));
    const branch = issue.errors.find((b) => b.some((i) => i.code === 'custom')) ?? issue.errors.find(shapeFits);
    if (branch) return branch.flatMap((i) => deepest(i, path));
  }
  return [{ ...issue, path } as Issue];
}

const NOUNS: Record<string, string> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function expectation(issue: Issue): string | undefined {
  if (issue.code === 'invalid_type') return NOUNS[issue.expected] ?? issue.expected;
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v)).join(' or ');
  return undefined;
}

function kindOf(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return show(input);
}

function describeIssue(issue: Issue): string {
  // Issues carry their input only when parsed with { reportInput: true }; a missing key has none.
  const input = (issue as { input?: unknown }).input;
  // A message the schema spelled out itself wins over ours; zod's own start with "Invalid".
  if (!/^(Invalid|Too)/.test(issue.message)) return issue.message;
  if (issue.code === 'invalid_type') {
    return input === undefined ? 'is required' : `expected ${expectation(issue)}, got ${kindOf(input)}`;
  }
  if (issue.code === 'invalid_value' && issue.values.every((v) => typeof v === 'string')) {
    const values = issue.values as string[];
    const hint = typeof input === 'string' ? didYouMean(input, values) : undefined;
    return `${kindOf(input)} is not one of ${values.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`;
  }
  if (issue.code === 'invalid_union') {
    const expected = issue.errors.map((b) => (b.length === 1 && b[0] ? expectation(b[0]) : undefined));
    if (expected.every((e) => e !== undefined)) return `expected ${expected.join(' or ')}, got ${kindOf(input)}`;
  }
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  if (issue.code === 'too_big' && typeof input === 'number') return `${input} is too big (at most ${issue.maximum})`;
  if (issue.code === 'too_small' && typeof input === 'number') return `${input} is too small (at least ${issue.minimum})`;
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

export function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
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
