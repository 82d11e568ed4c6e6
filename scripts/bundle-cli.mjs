#!/usr/bin/env node
// Build step, run after tsc: join dist/'s modules into the CLI the package runs,
// dist/bin/gen-fw.js. Node 20 loads each ES module with its own resolve, read and compile;
// a render loaded 72 of them, about 20 ms of its wall time at 1,000 services (see
// docs/decisions.md, "The CLI is one bundle"). Each command still loads only its own code:
// the commands' dynamic imports become chunks beside the entry. gen-fw's dependencies
// (node_modules) are not bundled: they load from node_modules as before, with their
// licences. dist/'s separate modules stay for the tests and the benchmarks that import them.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Bundle `root`/dist/cli/main.js into `root`/dist/bin/ (replaced whole). */
export async function bundleCli(root) {
  const outdir = join(root, 'dist/bin');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    // The probe is copied on its own into scratch namespaces (src/system/netns.ts finds it beside its own chunk).
    entryPoints: { 'gen-fw': join(root, 'dist/cli/main.js'), probe: join(root, 'dist/system/probe.js') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli(fileURLToPath(new URL('..', import.meta.url)));
