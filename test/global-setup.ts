import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writePrecompiled } from '../src/render/precompile-templates.js';

/**
 * The build's last steps (scripts/precompile-templates.mjs and `gen-fw schema`, which
 * `npm run build` and `npm test` run after tsc), done again here: the tests that run the built CLI then always
 * find templates precompiled from templates/ as it is now, even after a bare `tsc`.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (existsSync(join(root, 'dist'))) writePrecompiled(join(root, 'templates'), join(root, 'dist/templates.precompiled.cjs'));
  // And its schema/ (the package ships it; the copies of the package some tests run need it).
  if (existsSync(join(root, 'dist/cli/main.js')))
    execFileSync(process.execPath, [join(root, 'dist/cli/main.js'), 'schema', '--out', join(root, 'schema')], { stdio: 'ignore' });
}
