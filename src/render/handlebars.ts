import type HandlebarsNamespace from 'handlebars';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { sha256 } from '../shared/hash.js';
import type { IptRule } from '../model/types.js';
import { InputError } from '../errors.js';
import { cap } from '../validate/value-error.js';
import { packageRoot } from '../version.js';
import { awkAssignment, runtimeText } from './runtime-files.js';
import { commentText, shellQuote } from './shell-quote.js';

/** `iptables [-t table] -A chain args...`, every word shell-quoted. */
export function iptablesCommand(rule: IptRule): string {
  // One array of the words, quoted as they go in (no spread, no map: see src/lint/intervals.ts on the interpreter).
  const args = rule.args;
  const head = rule.table !== 'filter' ? 5 : 3;
  const words = new Array<string>(head + args.length);
  words[0] = rule.family === 4 ? 'iptables' : 'ip6tables';
  if (head === 5) {
    words[1] = '-t';
    words[2] = shellQuote(rule.table);
  }
  words[head - 2] = '-A';
  words[head - 1] = shellQuote(rule.chain);
  for (let i = 0; i < args.length; i++) words[head + i] = shellQuote(args[i]!);
  return words.join(' ');
}

const helpers = {
  /** One value as a shell word. */
  sh: (value: unknown) => shellQuote(String(value)),
  /** One rule as a shell command line. */
  ipt: (rule: IptRule) => iptablesCommand(rule),
  /** Text for a `#` comment. */
  comment: (value: unknown) => commentText(String(value)),
  json: (value: unknown) => JSON.stringify(value, null, 2),
  /** runtime/<name>, verbatim (see runtime-files.ts). */
  runtime: (name: unknown) => runtimeText(String(name)),
  /** awk programs of runtime/ as one shell variable: {{awk "GFW_X_AWK" "a.awk" "b.awk"}}. */
  awk: (variable: unknown, ...rest: unknown[]) => awkAssignment(String(variable), rest.slice(0, -1).map(String)),
};

export type Template = (data: object) => string;

/** What a custom template may print without a quoting helper: a plain word (or number). */
const PLAIN_WORD = /^[A-Za-z0-9_.,:/=+@%-]*$/;

/**
 * The helper every `{{x}}` of a custom template is routed through (see guardPrints): the
 * value printed only when it is a plain word, so that quoting never depends on the author.
 */
const PRINTED = 'gfwPrinted';
function printed(value: unknown, name: unknown, file: unknown, line: unknown): string {
  // Strict mode checks the names a template prints, not a helper's arguments: as it would.
  if (value === undefined) throw new Error(`${JSON.stringify(name)} not defined`);
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && PLAIN_WORD.test(text)) return text;
  throw new InputError([
    {
      file: String(file),
      line: Number(line),
      message: 'template prints a value unquoted; use {{sh x}} (a shell word) or {{comment x}} (comment text)',
    },
  ]);
}

/**
 * No HTML escaping (output is shell; escaping for shell is done by named helpers), and
 * strict + knownHelpersOnly: a typo in a template fails the render. The build's precompiled
 * templates are made with the same options.
 */
export const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((k) => [k, true])),
} as const;

/** The options of a custom template: those, and the helper its plain prints go through. */
const CUSTOM_COMPILE_OPTIONS = { ...COMPILE_OPTIONS, knownHelpers: { ...COMPILE_OPTIONS.knownHelpers, [PRINTED]: true } };

/** One .hbs file of a templates directory; `path` is relative to it ("partials/header.hbs"). */
export interface TemplateFile {
  path: string;
  name: string;
  partial: boolean;
  text: string;
}

/** The partials (partials/*.hbs), then the templates (*.hbs), each sorted by name. */
export function readTemplateFiles(dir: string): TemplateFile[] {
  const files: TemplateFile[] = [];
  // The directory itself first: a --templates that is missing or a file is named as such.
  const top = listTemplates(dir, '');
  const names = { partials: listTemplates(dir, 'partials'), '': top };
  for (const [sub, partial] of [
    ['partials', true],
    ['', false],
  ] as const) {
    for (const name of names[sub]) {
      if (!name.endsWith('.hbs')) continue;
      const path = sub ? `${sub}/${name}` : name;
      files.push({ path, name: name.replace(/\.hbs$/, ''), partial, text: readFileSync(join(dir, path), 'utf8') });
    }
  }
  return files;
}

/** The names in a templates directory (partials/ may be absent); a missing or unreadable --templates is bad input. */
function listTemplates(dir: string, sub: string): string[] {
  try {
    return readdirSync(join(dir, sub)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (sub && code === 'ENOENT') return [];
    const why =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : code === 'EACCES'
            ? 'cannot read: permission denied'
            : `cannot read (${code ?? 'error'})`;
    throw new InputError([{ file: join(dir, sub), message: `${why} (--templates names a directory of Handlebars templates)` }]);
  }
}

/**
 * A template whose run fails (strict mode: a name the data does not have; a helper given
 * the wrong thing) is bad input of --templates, not an internal error: exit 2, its file.
 */
function reportingFailures(template: Template, file: string): Template {
  return (data) => {
    try {
      return template(data);
    } catch (e) {
      if (e instanceof InputError) throw e;
      const message = String((e as Error).message ?? e).split('\n')[0]!;
      throw new InputError([{ file, message: `template failed at render: ${cap(message)}` }]);
    }
  };
}

/**
 * What the build precompiled from the package's templates/ (dist/templates.precompiled.cjs,
 * written by scripts/precompile-templates.mjs): each file's sha256 and Handlebars' template
 * spec, and the Handlebars version that made them.
 */
export interface PrecompiledTemplates {
  handlebars: string;
  files: Record<string, { sha256: string; spec: TemplateSpec }>;
}

type TemplateSpec = Parameters<typeof HandlebarsNamespace.template>[0];

const require = createRequire(import.meta.url);

/** The build's precompiled templates; null when the build step did not run. */
function builtInPrecompiled(): PrecompiledTemplates | null {
  try {
    return require(join(packageRoot, 'dist/templates.precompiled.cjs')) as PrecompiledTemplates;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

export interface LoadedTemplates {
  templates: Map<string, Template>;
  /** The files compiled now, because the build did not precompile them as they are (relative paths). */
  compiled: string[];
}

/**
 * The templates of `dir` in an isolated Handlebars. A file whose bytes are the ones the build
 * precompiled (same sha256) uses that precompiled spec, with Handlebars' small runtime build
 * when every file does; any other file (--templates elsewhere, an edited template) is
 * compiled here, with the full build, to the same output the precompiled spec gives.
 */
export function loadTemplates(dir: string, precompiled: PrecompiledTemplates | null = builtInPrecompiled()): LoadedTemplates {
  const files = readTemplateFiles(dir);
  const specs = precompiled && precompiled.handlebars === HANDLEBARS_VERSION ? precompiled.files : {};
  const specOf = (f: TemplateFile) => {
    const entry = Object.hasOwn(specs, f.path) ? specs[f.path] : undefined;
    return entry && entry.sha256 === sha256(f.text) ? entry.spec : undefined;
  };
  const plan = files.map((f) => ({ f, spec: specOf(f) }));
  const compiled = plan.filter((p) => !p.spec).map((p) => p.f.path);
  // The full build only when something is to be compiled (it has compile; the runtime has not).
  const hb: Runtime & Partial<Pick<typeof HandlebarsNamespace, 'compile' | 'precompile'>> = (
    compiled.length === 0 ? handlebarsRuntime() : handlebarsFull()
  ).create();
  hb.registerHelper({ ...helpers, [PRINTED]: printed });
  const shipped = compiled.length ? shippedTexts() : new Map<string, string>();
  const templates = new Map<string, Template>();
  for (const { f, spec } of plan) {
    // hb.compile is lazy (it compiles at the first call, mid-render): precompiling once here
    // finds a broken template in --templates before anything is written.
    let template: Template | undefined;
    if (spec) template = hb.template(spec);
    else if (shipped.get(f.path) === f.text) {
      checkTemplate(hb.precompile!, dir, f, f.text, COMPILE_OPTIONS);
      template = hb.compile!(f.text, COMPILE_OPTIONS);
    } else {
      const ast = guardPrints(parseTemplate(hb as typeof HandlebarsNamespace, dir, f), join(dir, f.path));
      checkTemplate(hb.precompile!, dir, f, ast, CUSTOM_COMPILE_OPTIONS);
      template = hb.compile!(ast, CUSTOM_COMPILE_OPTIONS);
    }
    // A partial's failure is caught by the template that includes it.
    if (f.partial) hb.registerPartial(f.name, template);
    else templates.set(f.name, reportingFailures(template, join(dir, f.path)));
  }
  return { templates, compiled };
}

/** A template that does not compile is bad input (exit 2, nothing written), named with its file and line. */
function checkTemplate(
  precompile: typeof HandlebarsNamespace.precompile,
  dir: string,
  f: TemplateFile,
  input: string | hbs.AST.Program,
  options: CompileOptions,
): void {
  try {
    precompile(input, options);
  } catch (e) {
    throw invalidTemplate(dir, f, e);
  }
}

function invalidTemplate(dir: string, f: TemplateFile, e: unknown): InputError {
  const message = (e as Error).message ?? String(e);
  const line = /on line (\d+)/.exec(message)?.[1];
  return new InputError([
    { file: join(dir, f.path), line: line ? Number(line) : undefined, message: `not a valid template: ${message.split('\n')[0]}` },
  ]);
}

type CompileOptions = Parameters<typeof HandlebarsNamespace.precompile>[1];

function parseTemplate(hb: typeof HandlebarsNamespace, dir: string, f: TemplateFile): hbs.AST.Program {
  try {
    return hb.parse(f.text);
  } catch (e) {
    throw invalidTemplate(dir, f, e);
  }
}

/**
 * A custom template (one that is not the package's own file) must not decide how a config
 * value is quoted: `{{{x}}}` and `{{& x}}` are refused, and every `{{x}}` that is not a
 * helper call becomes `{{gfwPrinted x "x" "FILE" LINE}}`, which prints only a plain word.
 * The package's templates are reviewed code and print pre-formatted lines as they are.
 */
function guardPrints(ast: hbs.AST.Program, file: string): hbs.AST.Program {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown> & { type?: string };
    if (n.type === 'MustacheStatement') {
      const m = n as unknown as hbs.AST.MustacheStatement;
      const line = m.loc?.start.line ?? 0;
      if (!m.escaped) {
        throw new InputError([
          { file, line, message: 'template prints a value unquoted ({{{ }}} or {{& }}); use {{sh x}} or {{comment x}}' },
        ]);
      }
      const helperCall =
        m.params.length > 0 ||
        m.hash !== undefined ||
        (m.path.type === 'PathExpression' && Object.hasOwn(helpers, (m.path as hbs.AST.PathExpression).original));
      if (!helperCall) {
        const loc = m.loc;
        const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
        m.params = [
          m.path,
          { type: 'StringLiteral', value: name, original: name, loc } as hbs.AST.StringLiteral,
          { type: 'StringLiteral', value: file, original: file, loc } as hbs.AST.StringLiteral,
          { type: 'NumberLiteral', value: line, original: line, loc } as hbs.AST.NumberLiteral,
        ];
        m.path = { type: 'PathExpression', data: false, depth: 0, parts: [PRINTED], original: PRINTED, loc } as hbs.AST.PathExpression;
      }
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'loc') visit(value);
  };
  visit(ast);
  return ast;
}

/** The package's own templates/ (path → text): a file with the same text is not custom. */
function shippedTexts(): Map<string, string> {
  try {
    return new Map(readTemplateFiles(join(packageRoot, 'templates')).map((f) => [f.path, f.text]));
  } catch {
    return new Map();
  }
}

/**
 * Handlebars from the single-file builds its package ships (the same version and API): the
 * package's main entry is some forty CommonJS modules plus the source-map library, which
 * together take longer to load than rendering a hundred services. The runtime build (a third
 * of the size) runs precompiled templates; the full one compiles.
 */
type Runtime = Pick<typeof HandlebarsNamespace, 'create' | 'template' | 'registerHelper' | 'registerPartial' | 'VERSION'>;
const handlebarsRuntime = () => require('handlebars/dist/handlebars.runtime.min.js') as { create(): Runtime };
const handlebarsFull = () => require('handlebars/dist/handlebars.min.js') as typeof HandlebarsNamespace;

/** The version of the installed Handlebars: precompiled specs from another one are not used. */
const HANDLEBARS_VERSION = (require('handlebars/package.json') as { version: string }).version;
