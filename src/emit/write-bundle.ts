import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readlink, rename, rm, stat, lstat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { Bundle } from '../render/render-bundle.js';

/**
 * Write a bundle so that `out` is always either the previous bundle or the complete new
 * one: the files go into a fresh hidden sibling directory, and `out` is a symlink that
 * is swapped to it with one rename(2). Older siblings are removed after. (Safe against a
 * killed render; against power loss, run sync(1) before imaging the disk.)
 */
export async function writeBundle(bundle: Bundle, outDir: string): Promise<string> {
  const out = resolve(outDir);
  const parent = dirname(out);
  const base = basename(out);
  const digest = createHash('sha256');
  // In parts: one string of path, mode and content would be a second copy of every file.
  for (const [path, f] of bundle) digest.update(`${path}\0${f.mode}\0`).update(f.content).update('\0');
  const finalName = `.${base}.${digest.digest('hex').slice(0, 16)}`;
  const finalDir = join(parent, finalName);
  const tmpDir = join(parent, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

  try {
    await mkdir(parent, { recursive: true });
    const current = await currentTarget(out);
    if (current === finalName && (await exists(finalDir))) return out; // identical content already live

    await mkdir(tmpDir, { recursive: true });
    writeFiles(tmpDir, bundle);
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmpDir, finalDir);

    // A real directory from before: move it aside first (the one non-atomic step, once).
    const st = await lstat(out).catch(() => undefined);
    if (st?.isDirectory()) await rename(out, join(parent, `.${base}.previous-${process.pid}`));
    else if (st && !st.isSymbolicLink()) throw new EnvironmentError(`${outDir} exists and is not a directory`);

    const link = join(parent, `.${base}.link-${process.pid}`);
    await rm(link, { force: true });
    await symlink(finalName, link);
    await rename(link, out);

    for (const name of await readdir(parent)) {
      if (name.startsWith(`.${base}.`) && name !== finalName) await rm(join(parent, name), { recursive: true, force: true });
    }
    return out;
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof EnvironmentError) throw e;
    throw new EnvironmentError(`cannot write ${outDir}: ${(e as Error).message}`);
  }
}

/**
 * Every file into a fresh directory: each directory is made once, and each file is
 * written synchronously with its mode set on the open descriptor (the umask narrows the
 * mode given to open). Thousands of small files go much faster this way than as a
 * chain of awaited thread-pool calls, and a CLI has nothing else to do meanwhile.
 */
function writeFiles(dir: string, bundle: Bundle): void {
  const made = new Set<string>();
  for (const [path, file] of bundle) {
    const target = join(dir, path);
    const parent = dirname(target);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    const fd = openSync(target, 'wx', file.mode);
    try {
      writeFileSync(fd, file.content);
      fchmodSync(fd, file.mode);
    } finally {
      closeSync(fd);
    }
  }
}

async function currentTarget(out: string): Promise<string | undefined> {
  return readlink(out).catch(() => undefined);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
