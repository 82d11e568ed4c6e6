import type HandlebarsNamespace from 'handlebars';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { IptRule } from '../model/types.js';
import { commentText, shellQuote } from './shell-quote.js';

/** `iptables [-t table] -A chain args...`, every word shell-quoted. */
export function iptablesCommand(rule: IptRule): string {
  const words = [rule.family === 4 ? 'iptables' : 'ip6tables'];
  if (rule.table !== 'filter') words.push('-t', rule.table);
  words.push('-A', rule.chain, ...rule.args);
  return words.map(shellQuote).join(' ');
}

const helpers = {
  /** One value as a shell word. */
  sh: (value: unknown) => shellQuote(String(value)),
  /** One rule as a shell command line. */
  ipt: (rule: IptRule) => iptablesCommand(rule),
  /** Text for a `#` comment. */
  comment: (value: unknown) => commentText(String(value)),
  json: (value: unknown) => JSON.stringify(value, null, 2),
};

export type Template = (data: object) => string;

/**
 * Handlebars from the single-file build its package ships (dist/handlebars.min.js, the same
 * version and API): the package's main entry is some forty CommonJS modules plus the
 * source-map library, which together take longer to load than rendering a hundred services.
 */
const Handlebars = createRequire(import.meta.url)('handlebars/dist/handlebars.min.js') as typeof HandlebarsNamespace;

/**
 * Handlebars builds a file by appending its pieces one by one, which V8 keeps as a rope of
 * small strings several times the size of the text (10,000 fragments held that way cost
 * more memory than the rest of a render). Matching a regular expression flattens a string
 * in place; do it once per rendered file.
 */
function flatten(text: string): string {
  /^/.test(text);
  return text;
}

/**
 * An isolated Handlebars with no HTML escaping: output is shell, and escaping for shell is
 * done by named helpers. strict + knownHelpersOnly: a typo in a template fails the render.
 */
export function loadTemplates(dir: string): Map<string, Template> {
  const hb = Handlebars.create();
  hb.registerHelper(helpers);
  const options = {
    noEscape: true,
    strict: true,
    knownHelpersOnly: true,
    knownHelpers: Object.fromEntries(Object.keys(helpers).map((k) => [k, true])),
  };
  const partialsDir = join(dir, 'partials');
  for (const name of readdirSync(partialsDir).sort()) {
    if (!name.endsWith('.hbs')) continue;
    hb.registerPartial(name.replace(/\.hbs$/, ''), hb.compile(readFileSync(join(partialsDir, name), 'utf8'), options));
  }
  const templates = new Map<string, Template>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.hbs')) continue;
    const compiled = hb.compile(readFileSync(join(dir, name), 'utf8'), options);
    templates.set(name.replace(/\.hbs$/, ''), (data) => flatten(compiled(data)));
  }
  return templates;
}
