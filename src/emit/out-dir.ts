import { realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ExitError } from '../errors.js';

/** What --out must never be, contain or sit in: the project and its inputs. */
export interface Protected {
  /** The project's directories (the working directory, the config's directory). */
  projectDirs?: string[];
  /** The config file. */
  config?: string;
  /** The conf.d directory. */
  confD?: string;
}

/** A path for a message: as given, no terminal escapes, not endless. */
export function shown(path: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = path.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > 200 ? `${clean.slice(0, 100)}…${clean.slice(-99)}` : clean;
}

/** `path` with every symlink in it resolved, also when its last parts do not exist yet. */
function real(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

/** `a` is `b` or one of its ancestors. */
function holds(a: string, b: string): boolean {
  const r = relative(a, b);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
}

/**
 * Refuse an --out that render could never replace without destroying the project: `/`,
 * the project's directory or one holding it, the config or conf.d, or a place inside
 * conf.d. Exit 2; nothing has been written yet. (The path itself is --out as given with
 * its parents' symlinks resolved: a symlink at --out is what it is, refused later.)
 */
export function refuseProtected(outDir: string, keep: Protected): void {
  const abs = resolve(outDir);
  const out = dirname(abs) === abs ? abs : join(real(dirname(abs)), basename(abs));
  const refuse = (what: string) => {
    throw new ExitError(2, `--out ${shown(outDir)} ${what}; nothing was written`);
  };
  if (dirname(out) === out) refuse('is the root directory');
  const projects = (keep.projectDirs ?? []).map((dir) => ({ dir, real: real(dir) }));
  for (const p of projects) {
    if (out === p.real) refuse(`is the project directory (${shown(p.dir)}); give the bundle a directory of its own, e.g. build/firewall`);
  }
  if (keep.config !== undefined && holds(out, real(keep.config))) refuse(`contains the config file ${shown(keep.config)}`);
  const confD = keep.confD === undefined ? undefined : real(keep.confD);
  if (confD !== undefined && holds(out, confD)) refuse(`contains conf.d (${shown(keep.confD!)})`);
  for (const p of projects) {
    if (holds(out, p.real)) refuse(`contains the project directory (${shown(p.dir)})`);
  }
  if (confD !== undefined && holds(confD, out)) refuse(`is inside conf.d (${shown(keep.confD!)})`);
}
