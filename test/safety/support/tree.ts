import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every entry below a directory (hidden ones too): symlink targets, file modes and digests. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const key = relative(dir, p);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[key] = `link -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else out[key] = `file ${(st.mode & 0o7777).toString(8)} ${sha256(readFileSync(p))}`;
    }
  };
  walk(dir);
  return out;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Regular files below a directory, as sorted relative paths. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

interface Manifest {
  files: { path: string; mode: string; sha256: string }[];
}

/**
 * Check that `out` holds one complete bundle: exactly the files its manifest.json lists
 * (plus the manifest), each with the listed mode and sha256. Returns the manifest's own
 * sha256, which names the bundle; throws with what is wrong otherwise.
 */
export function verifyBundle(out: string): string {
  const dir = realpathSync(out);
  const manifestText = readFileSync(join(dir, 'manifest.json'));
  const manifest = JSON.parse(manifestText.toString('utf8')) as Manifest;
  const listed = manifest.files
    .map((f) => f.path)
    .concat('manifest.json')
    .sort();
  const present = listFiles(dir);
  if (JSON.stringify(present) !== JSON.stringify(listed)) {
    throw new Error(`${out}: files differ from manifest.json\n  present: ${present.length}\n  listed: ${listed.length}`);
  }
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    const mode = (lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');
    if (mode !== f.mode) throw new Error(`${out}/${f.path}: mode ${mode}, manifest says ${f.mode}`);
    if (sha256(readFileSync(p)) !== f.sha256) throw new Error(`${out}/${f.path}: sha256 differs from manifest.json`);
  }
  return sha256(manifestText);
}
