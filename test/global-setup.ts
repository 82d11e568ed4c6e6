import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writePrecompiled } from '../src/render/precompile-templates.js';
import { bundleCli } from '../scripts/bundle-cli.mjs';

/**
 * The build's last steps (scripts/precompile-templates.mjs, scripts/bundle-cli.mjs and
 * `gen-fw schema`, which `npm run build` and `npm test` run after tsc), done again here:
 * the tests that run the built CLI then always run dist/ as it is now, with templates
 * precompiled from templates/ as they are now, even after a bare `tsc`.
 */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!existsSync(join(root, 'dist/cli/main.js'))) return;
  writePrecompiled(join(root, 'templates'), join(root, 'dist/templates.precompiled.cjs'));
  await bundleCli(root);
  // And its schema/ (the package ships it; the copies of the package some tests run need it).
  execFileSync(process.execPath, [join(root, 'dist/bin/gen-fw.js'), 'schema', '--out', join(root, 'schema')], { stdio: 'ignore' });
}
