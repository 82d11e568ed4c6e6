import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readlink, rename, rm, stat, lstat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { sha256 } from '../shared/hash.js';
import type { Bundle, BundleSink } from '../render/bundle.js';

/**
 * Write a bundle so that `out` is always either the previous bundle or the complete new
 * one. `produce` hands each file to the sink as soon as it is made, and the sink writes it
 * into a fresh hidden sibling directory (nothing needs to hold the whole bundle); once every
 * file is there, that directory is renamed to a name derived from the content and `out`, a
 * symlink, is swapped to it with one rename(2). Older siblings are removed after. (Safe
 * against a killed render; against power loss, run sync(1) before imaging the disk.)
 * Call it only once the input is known to be good: it creates the staging directory first.
 */
export async function emitBundle(outDir: string, produce: (sink: BundleSink) => void): Promise<{ out: string; files: number }> {
  const out = resolve(outDir);
  const parent = dirname(out);
  const base = basename(out);
  const tmpDir = join(parent, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

  // The first directory this run had to create (out's parents may be new): removed again on failure.
  let created: string | undefined;
  try {
    created = await mkdir(tmpDir, { recursive: true });
    const staged = stagingSink(tmpDir);
    produce(staged.sink);
    const finalName = `.${base}.${staged.digest().slice(0, 16)}`;
    const finalDir = join(parent, finalName);

    const current = await readlink(out).catch(() => undefined);
    if (current === finalName && (await exists(finalDir))) {
      // Identical content already live: keep it as it is.
      await rm(tmpDir, { recursive: true, force: true });
      return { out, files: staged.files() };
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
    return { out, files: staged.files() };
  } catch (e) {
    await rm(created ?? tmpDir, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof EnvironmentError) throw e;
    // Only failures to write are the environment's; anything else (a template error) is ours.
    if (!(e as NodeJS.ErrnoException).syscall) throw e;
    throw new EnvironmentError(`cannot write ${outDir}: ${(e as Error).message}`);
  }
}

/** Write a bundle held in memory (see emitBundle). */
export async function writeBundle(bundle: Bundle, outDir: string): Promise<string> {
  const { out } = await emitBundle(outDir, (sink) => {
    for (const [path, f] of bundle) sink.add(path, f.content, f.mode);
  });
  return out;
}

/** Larger files are converted, hashed and written a slice at a time: no second full copy. */
const SLICE = 1 << 20;

/**
 * A sink that writes each file into `dir` at once: each directory is made once, and each
 * file is written synchronously with its mode set on the open descriptor (the umask narrows
 * the mode given to open). Thousands of small files go much faster this way than as a chain
 * of awaited thread-pool calls, and a CLI has nothing else to do meanwhile. The bytes are
 * hashed as they are written; the digest of every path, mode and sha256, in the order the
 * files come (a render always makes them in the same order), names the bundle.
 */
function stagingSink(dir: string): { sink: BundleSink; digest(): string; files(): number } {
  const made = new Set<string>();
  const digest = createHash('sha256');
  let files = 0;
  const sink: BundleSink = {
    add(path, content, mode) {
      const target = join(dir, path);
      const parent = dirname(target);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      const fd = openSync(target, 'wx', mode);
      let sum: string;
      try {
        if (content.length <= SLICE) {
          const bytes = Buffer.from(content, 'utf8');
          sum = sha256(bytes);
          writeFileSync(fd, bytes);
        } else {
          const hash = createHash('sha256');
          for (let at = 0; at < content.length; ) {
            let end = Math.min(content.length, at + SLICE);
            // Never cut a surrogate pair in two.
            const next = content.charCodeAt(end);
            if (next >= 0xdc00 && next <= 0xdfff) end--;
            const bytes = Buffer.from(content.slice(at, end), 'utf8');
            hash.update(bytes);
            writeFileSync(fd, bytes);
            at = end;
          }
          sum = hash.digest('hex');
        }
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      digest.update(`${path}\0${mode}\0${sum}\n`);
      files++;
      return sum;
    },
  };
  return { sink, digest: () => digest.digest('hex'), files: () => files };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
