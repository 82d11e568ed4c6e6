import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile, readdir, readlink, rename, rm, stat, lstat, symlink, chmod } from 'node:fs/promises';
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
  for (const [path, f] of bundle) digest.update(`${path}\0${f.mode}\0${f.content}\0`);
  const finalName = `.${base}.${digest.digest('hex').slice(0, 16)}`;
  const finalDir = join(parent, finalName);
  const tmpDir = join(parent, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

  try {
    await mkdir(parent, { recursive: true });
    const current = await currentTarget(out);
    if (current === finalName && (await exists(finalDir))) return out; // identical content already live

    await mkdir(tmpDir, { recursive: true });
    for (const [path, file] of bundle) {
      const target = join(tmpDir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.content, { mode: file.mode, flag: 'wx' });
      await chmod(target, file.mode);
    }
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

async function currentTarget(out: string): Promise<string | undefined> {
  return readlink(out).catch(() => undefined);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
