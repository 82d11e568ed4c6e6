import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EnvironmentError, ExitError } from '../errors.js';
import { sha256 } from '../shared/hash.js';
import type { Bundle, BundleSink } from '../render/bundle.js';
import { holdsExactly, inspect, type Found } from './existing-bundle.js';
import { refuseProtected, shown, type Protected } from './out-dir.js';
import { Siblings } from './siblings.js';

export type { Protected } from './out-dir.js';

export interface Emitted {
  out: string;
  files: number;
  /** The same bundle was there already: nothing was touched. */
  unchanged: boolean;
  /** An earlier render was interrupted between its two renames: its previous bundle was put back first. */
  recovered: boolean;
}

/**
 * Write a bundle to `outDir`, an ordinary directory, replaced whole or not at all.
 *
 * Only ever replaces a bundle gen-fw made (manifest.json, and nothing but the files it
 * lists), an empty directory, or nothing; anything else there, and any --out that is or
 * holds the project (see refuseProtected), is refused with exit 2 before anything is
 * written. `produce` hands each file to the sink as soon as it is made, and the sink
 * writes it into a hidden staging sibling (`.B.gen-fw-staging-PID-X`). Then, when the
 * content differs from what is there: the previous bundle is renamed aside
 * (`.B.gen-fw-previous-PID-X`), the staging directory renamed into place, and the
 * previous one removed. A render killed between those two renames leaves the previous
 * bundle complete under its hidden name, and the next render puts it back before anything
 * else; leftovers of killed renders are removed by the next one that succeeds. (Safe
 * against a killed render; against power loss, run sync(1) before imaging the disk.)
 * Call it only once the input is known to be good.
 */
export async function emitBundle(outDir: string, produce: (sink: BundleSink) => void, keep: Protected = {}): Promise<Emitted> {
  refuseProtected(outDir, keep);
  const siblings = new Siblings(outDir);
  const { out } = siblings;
  let recovered = false;
  let staging: string | undefined;
  // The first directory this run had to create (out's parents may be new): removed again on failure.
  let created: string | undefined;
  try {
    const before = inspect(out);
    if (before.kind === 'missing') recovered = await siblings.recover();
    const found = recovered ? inspect(out) : before;
    refuseForeign(outDir, found);

    created = await mkdir(siblings.parent, { recursive: true });
    staging = siblings.name('staging');
    await mkdir(staging);
    const staged = stagingSink(staging);
    produce(staged.sink);

    const unchanged =
      (found.kind === 'bundle' || found.kind === 'legacy') &&
      found.manifest === staged.manifest() &&
      holdsExactly(found.kind === 'bundle' ? out : found.target, found.files);
    if (unchanged) await rm(staging, { recursive: true, force: true });
    else await swapIn(outDir, siblings, staging, found);
    staging = created = undefined;
    await siblings.removeLeftovers();
    return { out, files: staged.files(), unchanged, recovered };
  } catch (e) {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (created) await rm(created, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof EnvironmentError || e instanceof ExitError) throw e;
    // Only failures to write are the environment's; anything else (a template error) is ours.
    if (!(e as NodeJS.ErrnoException).syscall) throw e;
    throw new EnvironmentError(`cannot write ${shown(outDir)}: ${(e as Error).message}`);
  }
}

/** Exit 2 unless what is at --out may be replaced. */
function refuseForeign(outDir: string, found: Found): void {
  if (found.kind !== 'foreign') return;
  const why = found.entry === undefined ? found.why : `${join(outDir, found.entry)} ${found.why}`;
  throw new ExitError(2, `${shown(outDir)} exists and is not a gen-fw bundle; nothing was written (${shown(why)})`);
}

/**
 * Put the staged bundle at --out. A previous bundle is first moved aside and looked at
 * again where nothing else can write to it by name: should anything but its own files
 * have appeared in it since, it goes back and render is refused.
 */
async function swapIn(outDir: string, siblings: Siblings, staging: string, found: Found): Promise<void> {
  const { out } = siblings;
  if (found.kind === 'missing' || found.kind === 'empty') {
    // rename(2) takes the place of nothing or of an empty directory, and of nothing else.
    await rename(staging, out);
    return;
  }
  const previous = siblings.name('previous');
  await rename(out, previous);
  const aside = inspect(previous, basename(out));
  if (aside.kind !== found.kind) {
    await rename(previous, out);
    refuseForeign(outDir, aside.kind === 'foreign' ? aside : { kind: 'foreign', why: 'it changed during the render' });
  }
  try {
    await rename(staging, out);
  } catch (e) {
    await rename(previous, out).catch(() => undefined);
    throw e;
  }
  if (found.kind === 'legacy') await rm(found.target, { recursive: true, force: true });
  await rm(previous, { recursive: true, force: true });
}

/** Write a bundle held in memory (see emitBundle). */
export async function writeBundle(bundle: Bundle, outDir: string, keep: Protected = {}): Promise<string> {
  const { out } = await emitBundle(
    outDir,
    (sink) => {
      for (const [path, f] of bundle) sink.add(path, f.content, f.mode);
    },
    keep,
  );
  return out;
}

/** writeFileSync's loop without its options handling: write(2) may write less than asked. */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
}

/** Larger files are converted, hashed and written a slice at a time: no second full copy. */
const SLICE = 1 << 20;

/**
 * A sink that writes each file into `dir` at once: each directory is made once, and each
 * file is written synchronously with its mode set on the open descriptor (the umask narrows
 * the mode given to open). Thousands of small files go much faster this way than as a chain
 * of awaited thread-pool calls, and a CLI has nothing else to do meanwhile. The bytes are
 * hashed as they are written; manifest.json's text is kept, to compare with the bundle there.
 */
function stagingSink(dir: string): { sink: BundleSink; manifest(): string | undefined; files(): number } {
  const made = new Set<string>();
  let manifest: string | undefined;
  let files = 0;
  const sink: BundleSink = {
    add(path, content, mode) {
      // Render's own relative names: joined and cut by hand (path.join and dirname normalise, at a cost per file).
      const target = `${dir}/${path}`;
      const parent = target.slice(0, target.lastIndexOf('/'));
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
          writeAll(fd, bytes);
        } else {
          const hash = createHash('sha256');
          for (let at = 0; at < content.length;) {
            let end = Math.min(content.length, at + SLICE);
            // Never cut a surrogate pair in two.
            const next = content.charCodeAt(end);
            if (next >= 0xdc00 && next <= 0xdfff) end--;
            const bytes = Buffer.from(content.slice(at, end), 'utf8');
            hash.update(bytes);
            writeAll(fd, bytes);
            at = end;
          }
          sum = hash.digest('hex');
        }
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      if (path === 'manifest.json') manifest = content;
      files++;
      return sum;
    },
  };
  return { sink, manifest: () => manifest, files: () => files };
}
