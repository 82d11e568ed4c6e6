import type HandlebarsNamespace from 'handlebars';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sha256 } from '../shared/hash.js';
import { COMPILE_OPTIONS, readTemplateFiles } from './handlebars.js';
import { runtimeProblems } from './runtime-files.js';

/**
 * The build step after tsc: every template and partial of `dir`, precompiled with the options
 * a render compiles with, as a CommonJS module (see PrecompiledTemplates in handlebars.ts).
 * A render uses a file's spec only when the file it reads has the sha256 recorded here.
 */
export function precompiledModule(dir: string): string {
  const hb = createRequire(import.meta.url)('handlebars/dist/handlebars.min.js') as typeof HandlebarsNamespace;
  const entries = readTemplateFiles(dir).map(
    (f) =>
      `    ${JSON.stringify(f.path)}: {\n      sha256: ${JSON.stringify(sha256(f.text))},\n      spec: ${String(hb.precompile(f.text, COMPILE_OPTIONS))},\n    },\n`,
  );
  return (
    `// Generated at build time from the templates by scripts/precompile-templates.mjs: do not edit.\n` +
    `module.exports = {\n  handlebars: ${JSON.stringify(hb.VERSION)},\n  files: {\n${entries.join('')}  },\n};\n`
  );
}

/**
 * The build step: the templates precompiled into `file`, once the runtime files they join
 * (runtime/, read by every render as they are) are found fit to be joined.
 */
export function writePrecompiled(dir: string, file: string, runtimeDir?: string): void {
  const problems = runtimeProblems(runtimeDir);
  if (problems.length) throw new Error(`runtime/ cannot be joined into the scripts:\n  ${problems.join('\n  ')}`);
  writeFileSync(file, precompiledModule(dir));
}
