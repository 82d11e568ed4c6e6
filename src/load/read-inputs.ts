import { readdirSync, readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { sha256 } from '../shared/hash.js';

export interface InputFile {
  /** As shown to people: relative to the working directory when inside it. */
  display: string;
  path: string;
  text: string;
  sha256: string;
}

export type ServiceFile = { name: string; file: InputFile } | { problem: Problem };

export interface Inputs {
  host?: InputFile;
  /**
   * conf.d's service files in name order, each read only when the iteration reaches it
   * (one file's text in memory at a time); a file that cannot be read, or that repeats
   * a service name, comes as a problem.
   */
  services: Iterable<ServiceFile>;
  problems: Problem[];
}

export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** displayPath of each file in `dir` (absolute), without working out a relative path for each. */
export function displayPathsIn(dir: string, cwd = process.cwd()): (name: string) => string {
  const rel = relative(cwd, dir);
  if (rel === '') return (name) => name;
  const shownDir = displayPath(dir, cwd);
  return (name) => join(shownDir, name);
}

// Synchronous on purpose: thousands of small files read faster without a thread-pool
// round trip each, and a CLI has nothing else to do meanwhile.
function readInput(path: string, display = displayPath(path)): InputFile | Problem {
  try {
    const text = readFileSync(path, 'utf8');
    return { display, path, text, sha256: sha256(text) };
  } catch (e) {
    return { file: display, message: cannotRead(e) };
  }
}

function cannotRead(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : String((e as Error).message);
  return `cannot read: ${why}`;
}

// Any case here, so that "ok.YAML" is refused with a message rather than skipped unseen.
const SERVICE_FILE_RE = /^[^.].*\.ya?ml$/is;
const LOWER_CASE_EXTENSION_RE = /\.ya?ml$/;

/**
 * The service files in conf.d: NAME.yaml and NAME.yml that are files (or symlinks to
 * files), no hidden ones, sorted. One readdir, and a stat only for symlinks.
 */
function listServiceFiles(confD: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(confD, { withFileTypes: true })) {
    if (!SERVICE_FILE_RE.test(entry.name)) continue;
    if (entry.isFile()) names.push(entry.name);
    else if (entry.isSymbolicLink() && linksToFile(join(confD, entry.name))) names.push(entry.name);
  }
  return names.sort();
}

/** A dangling or looping symlink is no service file. */
function linksToFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const isProblem = (x: InputFile | Problem): x is Problem => 'message' in x;

/**
 * Find and read gen-fw.yaml (when given or present) and find every conf.d/*.yaml, to be
 * read as `services` is iterated. Reads only; problems are collected, not thrown.
 */
export async function readInputs(opts: { config?: string; confD: string }): Promise<Inputs> {
  const problems: Problem[] = [];
  let host: InputFile | undefined;
  const configPath = opts.config ? resolve(opts.config) : resolve('gen-fw.yaml');
  const configGiven = opts.config !== undefined;
  const configExists = await stat(configPath).then(
    () => true,
    () => false,
  );
  if (configGiven || configExists) {
    const r = readInput(configPath);
    if (isProblem(r)) problems.push(r);
    else host = r;
  }

  const confD = resolve(opts.confD);
  const dirStat = await stat(confD).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    problems.push({
      file: displayPath(confD),
      message: dirStat
        ? 'is not a directory (expected conf.d with one NAME.yaml per service)'
        : 'no such directory (expected conf.d with one NAME.yaml per service; pass --conf-d DIR)',
    });
    return { host, services: [], problems };
  }
  let names: string[];
  try {
    names = listServiceFiles(confD);
  } catch (e) {
    problems.push({ file: displayPath(confD), message: cannotRead(e) });
    return { host, services: [], problems };
  }
  return { host, services: readServiceFiles(confD, names), problems };
}

function* readServiceFiles(confD: string, names: readonly string[]): Generator<ServiceFile> {
  const seen = new Map<string, string>();
  const shown = displayPathsIn(confD);
  for (const name of names) {
    if (!LOWER_CASE_EXTENSION_RE.test(name)) {
      yield {
        problem: { file: shown(name), message: 'service files end in .yaml or .yml (lower case): rename it, or move it out of conf.d' },
      };
      continue;
    }
    const service = name.replace(/\.ya?ml$/, '');
    const r = readInput(join(confD, name), shown(name));
    if (isProblem(r)) {
      yield { problem: r };
      continue;
    }
    const earlier = seen.get(service);
    if (earlier) {
      yield { problem: { file: r.display, message: `duplicate service name "${service}" (also ${earlier}); one file per service` } };
      continue;
    }
    seen.set(service, r.display);
    yield { name: service, file: r };
  }
}
