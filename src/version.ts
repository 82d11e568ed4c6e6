import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * The package root: the nearest directory above this module that holds package.json
 * (this module is dist/version.js, a chunk of the bundled CLI in dist/bin/, or src/version.ts
 * under a test runner).
 */
export const packageRoot = rootAbove(dirname(fileURLToPath(import.meta.url)));

function rootAbove(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`gen-fw: no package.json above ${dir}`);
  }
}

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

export const version: string = pkg.version;
