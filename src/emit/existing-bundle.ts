import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file as manifest.json lists it. */
export interface ListedFile {
  mode: string;
  sha256: string;
}

/**
 * What a path holds, as far as render is concerned:
 * - `missing`, `empty` (an empty directory): free to use;
 * - `bundle`: a directory holding a gen-fw bundle and nothing else (directories apart);
 * - `legacy`: the layout of gen-fw before 2.x, a symlink `B -> .B.<16 hex>` to such a bundle;
 * - `foreign`: anything else, which render must never touch (`why` says what it is, or
 *   what is wrong with `entry`, a path inside it).
 */
export type Found =
  | { kind: 'missing' }
  | { kind: 'empty' }
  | { kind: 'bundle'; manifest: string; files: Map<string, ListedFile> }
  | { kind: 'legacy'; target: string; manifest: string; files: Map<string, ListedFile> }
  | { kind: 'foreign'; why: string; entry?: string };

/**
 * What is at `path` (not following a symlink there). Reads, never writes. `name` is the
 * --out name a legacy symlink's target is named after (differs once moved aside).
 */
export function inspect(path: string, name = basename(path)): Found {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw e;
  }
  if (st.isSymbolicLink()) return legacyLink(path, name) ?? { kind: 'foreign', why: 'a symbolic link' };
  if (!st.isDirectory()) return { kind: 'foreign', why: st.isFile() ? 'a file' : 'not a directory' };
  return inspectDir(path);
}

/** A directory: empty, a bundle and nothing else, or foreign. */
function inspectDir(dir: string): Found {
  const files: string[] = [];
  const others: string[] = [];
  let entries = 0;
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      entries++;
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p);
      else if (d.isFile()) files.push(p);
      else others.push(p);
    }
  };
  walk('');
  if (entries === 0) return { kind: 'empty' };
  if (!files.includes('manifest.json')) return { kind: 'foreign', why: 'no manifest.json' };
  const listed = readManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  if (!listed) return { kind: 'foreign', why: 'its manifest.json is not one gen-fw wrote' };
  if (others.length) return { kind: 'foreign', entry: others.sort()[0], why: 'is not a regular file' };
  const extra = files.filter((f) => f !== 'manifest.json' && !listed.files.has(f)).sort();
  if (extra.length) {
    const why = extra.length > 1 ? `and ${extra.length - 1} more are not in its manifest.json` : 'is not in its manifest.json';
    return { kind: 'foreign', entry: extra[0], why };
  }
  return { kind: 'bundle', ...listed };
}

/** manifest.json's text, when gen-fw wrote it: `generator` names gen-fw, `files` lists each file. */
function readManifest(text: string): { manifest: string; files: Map<string, ListedFile> } | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const { generator, files } = m as { generator?: unknown; files?: unknown };
  if (typeof generator !== 'string' || !/^gen-fw \S/.test(generator) || !Array.isArray(files)) return undefined;
  const listed = new Map<string, ListedFile>();
  for (const f of files as unknown[]) {
    const { path, mode, sha256 } = (f ?? {}) as Record<string, unknown>;
    if (typeof path !== 'string' || typeof mode !== 'string' || typeof sha256 !== 'string') return undefined;
    listed.set(path, { mode, sha256 });
  }
  return { manifest: text, files: listed };
}

/** The old layout: `B -> .B.<16 hex>`, a sibling holding a bundle and nothing else. */
function legacyLink(path: string, name: string): Found | undefined {
  const target = readlinkSync(path);
  if (target !== `.${name}.${target.slice(-16)}` || !/^[0-9a-f]{16}$/.test(target.slice(-16))) return undefined;
  const dir = join(dirname(path), target);
  const found = lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() ? inspectDir(dir) : undefined;
  return found?.kind === 'bundle' ? { kind: 'legacy', target: dir, manifest: found.manifest, files: found.files } : undefined;
}

/** Whether `dir` holds exactly the files `files` lists, each with its mode and sha256. */
export function holdsExactly(dir: string, files: ReadonlyMap<string, ListedFile>): boolean {
  for (const [path, f] of files) {
    const p = join(dir, path);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isFile() || (st.mode & 0o7777).toString(8).padStart(4, '0') !== f.mode) return false;
    if (createHash('sha256').update(readFileSync(p)).digest('hex') !== f.sha256) return false;
  }
  return true;
}
