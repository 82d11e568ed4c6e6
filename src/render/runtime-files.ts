import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../version.js';

/**
 * The host-side code of the scripts (runtime/*.sh and runtime/*.awk): real files, linted and
 * tested as they are, joined by the templates into self-contained scripts. A template names
 * them with two helpers: {{runtime "init-capture.sh"}} puts a file in verbatim, and
 * {{awk "GFW_SAVE_AWK" "chain-filter.awk" "save-filter.awk"}} puts awk programs into one
 * single-quoted shell variable. Their text never goes through Handlebars.
 */
export const RUNTIME_DIR = join(packageRoot, 'runtime');

const NAME = /^[a-z0-9][a-z0-9-]*\.(sh|awk)$/;
const texts = new Map<string, string>();

/** runtime/<name>, read once per process. */
export function runtimeText(name: string, dir: string = RUNTIME_DIR): string {
  if (!NAME.test(name)) throw new Error(`not a runtime file name: ${JSON.stringify(name)} (runtime/NAME.sh or runtime/NAME.awk)`);
  const path = join(dir, name);
  let text = texts.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    if (!text.endsWith('\n')) throw new Error(`runtime/${name} does not end with a newline`);
    texts.set(path, text);
  }
  return text;
}

/**
 * `VARIABLE='<the awk files, one after the other>'`: one program that awk reads as it would
 * read them with one -f each. A single quote in an awk file would end the string, so the
 * files have none (runtimeProblems finds them at build time).
 */
export function awkAssignment(variable: string, files: readonly string[], dir: string = RUNTIME_DIR): string {
  if (!/^GFW_[A-Z_]+_AWK$/.test(variable)) throw new Error(`not an awk program variable: ${JSON.stringify(variable)} (GFW_..._AWK)`);
  if (files.length === 0 || files.some((f) => !f.endsWith('.awk'))) throw new Error(`${variable}: name runtime/*.awk files`);
  const text = files.map((f) => runtimeText(f, dir)).join('');
  if (text.includes("'")) throw new Error(`${variable}: runtime/${files.join(', runtime/')} must not contain a single quote`);
  return `# shellcheck disable=SC2016 # awk (runtime/${files.join(', runtime/')}): its $ are awk's\n${variable}='\n${text}'`;
}

/** What is wrong with the files of runtime/ (the build refuses them): empty when nothing. */
export function runtimeProblems(dir: string = RUNTIME_DIR): string[] {
  const problems: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!NAME.test(name)) {
      problems.push(`runtime/${name}: not a runtime file name (NAME.sh or NAME.awk, lower case)`);
      continue;
    }
    const text = readFileSync(join(dir, name), 'utf8');
    if (!text.endsWith('\n')) problems.push(`runtime/${name}: does not end with a newline`);
    if (name.endsWith('.awk') && text.includes("'"))
      problems.push(`runtime/${name}: contains a single quote (it goes into a single-quoted shell string)`);
    if (name.endsWith('.sh') && !text.startsWith('# shellcheck shell=sh\n'))
      problems.push(`runtime/${name}: does not start with "# shellcheck shell=sh"`);
  }
  return problems;
}
