import { didYouMean } from './did-you-mean.js';
import { ValueError, show } from './value-error.js';

/*
 * The language the config files are defined in (schema.ts is the definition): a node per
 * kind of value — a mapping with its keys and defaults, a list, a word from a list, a
 * number, a value one of our parsers reads (values.ts) — and one interpreter for each use:
 * `check` validates and fills in the defaults, collecting every problem with its key path;
 * `toJsonSchema` is what `gen-fw schema` writes; `writtenDefault` is what `gen-fw init`
 * writes. Defaults are written as a person would write them and go through the same
 * check as a file's values, so a default can never be something the file could not say.
 */

export type JsonSchema = Record<string, unknown>;

/** A problem at a key path: `key` when it is about the key itself (an unknown key, a bad set name). */
export interface Issue {
  path: PropertyKey[];
  message: string;
  key?: boolean;
}

/** What a check returns for a value it reported a problem with. */
export const BAD: unique symbol = Symbol('bad');
type Checked<T> = T | typeof BAD;

export abstract class Node<T> {
  declare readonly _output: T;
  /** What the value is, in "expected X or Y" when no branch of an `either` takes the value. */
  abstract readonly noun: string;
  /** Whether the value is of this node's kind at all (`either` picks the branch that takes it). */
  abstract takes(value: unknown): boolean;
  abstract check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<T>;
  abstract toJsonSchema(): JsonSchema;
  /** A node that takes any value and decides in a parser: `either` tries the others first. */
  readonly open: boolean = false;
}

export type Output<N> = N extends Node<infer T> ? T : never;

/** How a value is named in a message: the value itself, or what it is. */
export function kindOf(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'number' && !Number.isFinite(input)) return String(input);
  return show(input);
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class BoolNode extends Node<boolean> {
  readonly noun = 'true or false';
  takes = (v: unknown) => typeof v === 'boolean';
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<boolean> {
    if (typeof value === 'boolean') return value;
    issues.push({ path, message: `expected true or false, got ${kindOf(value)}` });
    return BAD;
  }
  toJsonSchema = () => ({ type: 'boolean' });
}

class IntNode extends Node<number> {
  readonly noun = 'a number';
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super();
  }
  takes = (v: unknown) => typeof v === 'number';
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<number> {
    if (typeof value !== 'number' || !Number.isFinite(value)) issues.push({ path, message: `expected a number, got ${kindOf(value)}` });
    else if (!Number.isSafeInteger(value)) issues.push({ path, message: `expected a whole number, got ${kindOf(value)}` });
    else if (value < this.min) issues.push({ path, message: `${value} is too small (at least ${this.min})` });
    else if (value > this.max) issues.push({ path, message: `${value} is too big (at most ${this.max})` });
    else return value;
    return BAD;
  }
  toJsonSchema = () => ({ type: 'integer', minimum: this.min, maximum: this.max });
}

class WordNode<W extends string> extends Node<W> {
  readonly noun: string;
  constructor(
    readonly words: readonly W[],
    readonly message?: string,
  ) {
    super();
    this.noun = words.map((w) => JSON.stringify(w)).join(' or ');
  }
  takes = (v: unknown) => typeof v === 'string' && (this.words as readonly string[]).includes(v);
  /**
   * The word from the list rather than the input's copy of it: the same string for every
   * file, and V8 keeps it one byte per character (a parsed string later used as a property
   * key turns into a reference that Array.prototype.join treats as two-byte, doubling the
   * size of every line it ends up in).
   */
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<W> {
    const i = typeof value === 'string' ? (this.words as readonly string[]).indexOf(value) : -1;
    if (i >= 0) return this.words[i]!;
    const hint = typeof value === 'string' ? didYouMean(value, this.words) : undefined;
    issues.push({
      path,
      message: this.message ?? `${kindOf(value)} is not one of ${this.words.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`,
    });
    return BAD;
  }
  toJsonSchema = (): JsonSchema =>
    this.words.length === 1 ? { type: 'string', const: this.words[0] } : { type: 'string', enum: [...this.words] };
}

class FalseNode extends Node<false> {
  readonly noun = 'false';
  takes = (v: unknown) => v === false;
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<false> {
    if (value === false) return false;
    issues.push({ path, message: `expected false, got ${kindOf(value)}` });
    return BAD;
  }
  toJsonSchema = () => ({ type: 'boolean', const: false });
}

/** A value one of our parsers reads; the parser's ValueError is the message. */
class ParsedNode<T> extends Node<T> {
  readonly noun = 'a value';
  override readonly open = true;
  constructor(
    readonly parse: (v: unknown) => T,
    readonly schema: JsonSchema,
  ) {
    super();
  }
  takes = () => true;
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<T> {
    try {
      return this.parse(value);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      issues.push({ path, message: e.message });
      return BAD;
    }
  }
  toJsonSchema = () => this.schema;
}

/** One of two nodes, by what the value is: "expected A or B" when neither takes it. */
class EitherNode<A, B> extends Node<A | B> {
  readonly noun: string;
  constructor(
    readonly a: Node<A>,
    readonly b: Node<B>,
  ) {
    super();
    this.noun = `${a.noun} or ${b.noun}`;
  }
  takes = (v: unknown) => this.a.takes(v) || this.b.takes(v);
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<A | B> {
    const first: Node<A | B> = this.a.open ? this.b : this.a;
    const second: Node<A | B> = this.a.open ? this.a : this.b;
    if (first.takes(value)) return first.check(value, path, issues);
    if (second.takes(value)) return second.check(value, path, issues);
    issues.push({ path, message: `expected ${this.noun}, got ${kindOf(value)}` });
    return BAD;
  }
  toJsonSchema = () => ({ anyOf: [this.a.toJsonSchema(), this.b.toJsonSchema()] });
}

class ListNode<T> extends Node<T[]> {
  readonly noun = 'a list';
  constructor(readonly item: Node<T>) {
    super();
  }
  takes = (v: unknown) => Array.isArray(v);
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<T[]> {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `expected a list, got ${kindOf(value)}` });
      return BAD;
    }
    const out: T[] = [];
    let bad = false;
    // Indexed loops in check(): every value of every file passes here, mostly in V8's interpreter (see src/lint/intervals.ts).
    for (let i = 0; i < value.length; i++) {
      const r = this.item.check(value[i], [...path, i], issues);
      if (r === BAD) bad = true;
      else out.push(r);
    }
    return bad ? BAD : out;
  }
  toJsonSchema = () => ({ type: 'array', items: this.item.toJsonSchema() });
}

/** A key of a mapping: its node, and what a file that leaves it out means. */
export interface Field<T> {
  node: Node<T>;
  /** As one would write it in the file; checked like a written value. */
  default?: unknown;
  required?: boolean;
}

type Fields = Record<string, Field<unknown>>;
type FieldOutput<F> = F extends { node: Node<infer T>; default: unknown }
  ? T
  : F extends { node: Node<infer T>; required: true }
    ? T
    : F extends { node: Node<infer T> }
      ? T | undefined
      : never;
type Optional<F extends Fields> = { [K in keyof F]: F[K] extends { default: unknown } | { required: true } ? never : K }[keyof F];
export type MappingOutput<F extends Fields> = { [K in Exclude<keyof F, Optional<F>>]: FieldOutput<F[K]> } & {
  [K in Optional<F>]?: FieldOutput<F[K]>;
};

/** A mapping with exactly these keys, in this order (the order of the output, the JSON Schema and init's file). */
export class MappingNode<F extends Fields> extends Node<MappingOutput<F>> {
  readonly noun = 'a mapping (key: value)';
  readonly keys: string[];
  constructor(readonly fields: F) {
    super();
    this.keys = Object.keys(fields);
  }
  takes = isMapping;
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<MappingOutput<F>> {
    if (!isMapping(value)) {
      issues.push({ path, message: `expected a mapping (key: value), got ${kindOf(value)}` });
      return BAD;
    }
    const out: Record<string, unknown> = {};
    let bad = false;
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const field = this.fields[key]!;
      const given = Object.hasOwn(value, key) ? value[key] : undefined;
      const input = given === undefined ? field.default : given;
      if (input === undefined) {
        if (field.required) {
          issues.push({ path: [...path, key], message: 'is required' });
          bad = true;
        }
        continue;
      }
      const r = field.node.check(input, [...path, key], issues);
      if (r === BAD) bad = true;
      else out[key] = r;
    }
    const written = Object.keys(value);
    for (let k = 0; k < written.length; k++) {
      const key = written[k]!;
      if (Object.hasOwn(this.fields, key)) continue;
      const hint = didYouMean(key, this.keys);
      issues.push({
        path: [...path, key],
        message: hint ? `unknown key (did you mean "${hint}"?)` : `unknown key (known keys: ${this.keys.join(', ')})`,
        key: true,
      });
      bad = true;
    }
    return bad ? BAD : (out as MappingOutput<F>);
  }
  toJsonSchema(): JsonSchema {
    const required = this.keys.filter((k) => this.fields[k]!.required);
    const properties = Object.fromEntries(
      this.keys.map((k) => {
        const f = this.fields[k]!;
        const d = writtenDefault(f);
        return [k, { ...f.node.toJsonSchema(), ...(d === undefined || isEmptyMapping(d) ? {} : { default: d }) }];
      }),
    );
    return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
  }
}

const isEmptyMapping = (v: unknown) => isMapping(v) && Object.keys(v).length === 0;

/** A mapping from names (checked by a parser) to values of one node. */
class NamedNode<T> extends Node<Record<string, T>> {
  readonly noun = 'a mapping (key: value)';
  constructor(
    readonly name: (key: string) => void,
    readonly nameSchema: JsonSchema,
    readonly value: Node<T>,
  ) {
    super();
  }
  takes = isMapping;
  check(value: unknown, path: PropertyKey[], issues: Issue[]): Checked<Record<string, T>> {
    if (!isMapping(value)) {
      issues.push({ path, message: `expected a mapping (key: value), got ${kindOf(value)}` });
      return BAD;
    }
    const out: Record<string, T> = {};
    let bad = false;
    for (const [key, v] of Object.entries(value)) {
      try {
        this.name(key);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        issues.push({ path: [...path, key], message: e.message, key: true });
        bad = true;
        continue;
      }
      const r = this.value.check(v, [...path, key], issues);
      if (r === BAD) bad = true;
      else out[key] = r;
    }
    return bad ? BAD : out;
  }
  toJsonSchema = () => ({ type: 'object', propertyNames: this.nameSchema, additionalProperties: this.value.toJsonSchema() });
}

/** The definition's building blocks. */
export const bool = (): Node<boolean> => new BoolNode();
export const int = (min: number, max: number): Node<number> => new IntNode(min, max);
export const word = <W extends string>(words: readonly W[], message?: string): Node<W> => new WordNode(words, message);
export const no = (): Node<false> => new FalseNode();
export const parsed = <T>(parse: (v: unknown) => T, schema: JsonSchema): Node<T> => new ParsedNode(parse, schema);
export const either = <A, B>(a: Node<A>, b: Node<B>): Node<A | B> => new EitherNode(a, b);
export const list = <T>(item: Node<T>): Node<T[]> => new ListNode(item);
export const mapping = <F extends Fields>(fields: F): MappingNode<F> => new MappingNode(fields);
export const named = <T>(name: (key: string) => void, nameSchema: JsonSchema, value: Node<T>): Node<Record<string, T>> =>
  new NamedNode(name, nameSchema, value);

/** Field helpers: `opt(node)` may be left out, `req(node)` may not, `def(node, value)` defaults to value. */
export const opt = <T>(node: Node<T>) => ({ node });
export const req = <T>(node: Node<T>) => ({ node, required: true as const });
export const def = <T>(node: Node<T>, value: unknown) => ({ node, default: value });

/** The mapping branch of a node (ssh is `false` or a mapping), if it has one. */
export function mappingOf(node: Node<unknown>): MappingNode<Fields> | undefined {
  if (node instanceof MappingNode) return node as MappingNode<Fields>;
  if (node instanceof EitherNode) return mappingOf(node.a) ?? mappingOf(node.b);
  return undefined;
}

/**
 * A field's default as one writes it: a mapping that defaults to `{}` is written with its
 * own keys' defaults, so `gen-fw init` can write every one of them.
 */
export function writtenDefault(field: Field<unknown>): unknown {
  const m = mappingOf(field.node);
  if (m && isEmptyMapping(field.default)) return mappingDefaults(m);
  return field.default;
}

/** A mapping's written defaults, key by key (keys without a default left out). */
export function mappingDefaults(m: MappingNode<Fields>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of m.keys) {
    const d = writtenDefault(m.fields[k]!);
    if (d !== undefined) out[k] = d;
  }
  return out;
}

/** Check a value against a node: its output, or the issues (every one, in the order of the keys). */
export function checkValue<T>(node: Node<T>, value: unknown): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const r = node.check(value, [], issues);
  return r === BAD || issues.length ? { ok: false, issues } : { ok: true, value: r };
}

/** A value that must be right (built-in defaults, tests): its output, or an error naming every problem. */
export function mustCheck<T>(node: Node<T>, value: unknown): T {
  const r = checkValue(node, value);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.value;
}
