import { execa, execaSync } from 'execa';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { repoRoot } from './render.js';

/**
 * What a test runs as another user must be readable by that user. The checkout may sit
 * in a directory only root can enter (/root, or `mktemp -d`: mode 0700), so such a
 * program never runs from the checkout: it runs from a copy in a directory of its own,
 * made here, that every user can enter.
 */

/** The uid (and gid) of nobody, which tests drop to with setpriv. */
export const NOBODY = 65534;

/** The argv prefix that runs a command as `uid` (and its gid), with no supplementary groups. */
export function asUser(uid: number): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
}

/** A fresh directory (0755) in TMPDIR that every user can reach; throws when one of its parents is closed. */
export function publicTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  for (let p = dirname(dir); ; p = dirname(p)) {
    const mode = statSync(p).mode;
    if ((mode & 0o001) === 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `${p} (mode ${(mode & 0o7777).toString(8)}) cannot be entered by other users; point TMPDIR at a directory they can reach`,
      );
    }
    if (p === dirname(p)) return dir;
  }
}

/**
 * The package as `npm ci --omit=dev` would install it, copied into `dir`: package.json,
 * the files it ships (dist/, templates/) and the production dependencies package-lock.json
 * lists. That is all the CLI loads; it runs from there as any user.
 */
function copyPackage(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[]; bin: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const paths = ['package.json', ...pkg.files];
  for (const [path, entry] of Object.entries(lock.packages)) {
    // Optional dependencies for other platforms are in the lockfile but not on disk.
    if (path.startsWith('node_modules/') && !entry.dev && existsSync(join(repoRoot, path))) paths.push(path);
  }
  for (const path of paths) cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
  // cpSync keeps the modes, and a checkout made under umask 077 reads for root alone.
  execaSync('chmod', ['-R', 'u+rwX,go+rX', dir]);
  return join(dir, pkg.bin['gen-fw']!);
}

/**
 * The built CLI (dist/bin/gen-fw.js) for runs as another user: copied once per test file,
 * on first use, into a directory every user can read, and checked by running
 * `--version` as nobody; removed after the file's tests. Call at the top level of a test file.
 */
export function cliForAnyUser(): () => Promise<string> {
  let dir: string | undefined;
  let ready: Promise<string> | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () =>
    (ready ??= (async () => {
      dir = publicTempDir('gen-fw-cli-');
      const cli = copyPackage(dir);
      const [setpriv, ...args] = asUser(NOBODY);
      const r = await execa(setpriv!, [...args, process.execPath, cli, '--version'], { reject: false });
      if (r.exitCode !== 0)
        throw new Error(
          `the copy of the CLI in ${dir} does not run as uid ${NOBODY} (${process.execPath} must be reachable too):\n${r.stderr}`,
        );
      return cli;
    })());
}
