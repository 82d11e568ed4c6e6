import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { globby } from 'globby';
import type { Problem } from '../errors.js';

export interface InputFile {
  /** As shown to people: relative to the working directory when inside it. */
  display: string;
  path: string;
  text: string;
  sha256: string;
}

export interface Inputs {
  host?: InputFile;
  services: { name: string; file: InputFile }[];
  problems: Problem[];
}

export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

// Synchronous on purpose: thousands of small files read faster without a thread-pool
// round trip each, and a CLI has nothing else to do meanwhile.
function readInput(path: string): InputFile | Problem {
  const display = displayPath(path);
  try {
    const text = readFileSync(path, 'utf8');
    return { display, path, text, sha256: sha256(text) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message);
    return { file: display, message: `cannot read: ${why}` };
  }
}

const isProblem = (x: InputFile | Problem): x is Problem => 'message' in x;

/**
 * Find and read gen-fw.yaml (when given or present) and every conf.d/*.yaml.
 * Reads only; problems are collected, not thrown.
 */
export async function readInputs(opts: { config?: string; confD: string }): Promise<Inputs> {
  const problems: Problem[] = [];
  let host: InputFile | undefined;
  const configPath = opts.config ? resolve(opts.config) : resolve('gen-fw.yaml');
  const configGiven = opts.config !== undefined;
  const configExists = await stat(configPath).then(() => true, () => false);
  if (configGiven || configExists) {
    const r = readInput(configPath);
    if (isProblem(r)) problems.push(r);
    else host = r;
  }

  const confD = resolve(opts.confD);
  const dirStat = await stat(confD).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    problems.push({ file: displayPath(confD), message: dirStat ? 'is not a directory (expected conf.d with one NAME.yaml per service)' : 'no such directory (expected conf.d with one NAME.yaml per service; pass --conf-d DIR)' });
    return { host, services: [], problems };
  }
  const names = await globby(['*.yaml', '*.yml'], { cwd: confD, onlyFiles: true, followSymbolicLinks: true, dot: false });
  names.sort();
  const services: Inputs['services'] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const service = basename(name).replace(/\.ya?ml$/, '');
    const path = resolve(confD, name);
    const r = readInput(path);
    if (isProblem(r)) {
      problems.push(r);
      continue;
    }
    const earlier = seen.get(service);
    if (earlier) {
      problems.push({ file: r.display, message: `duplicate service name "${service}" (also ${earlier}); one file per service` });
      continue;
    }
    seen.set(service, r.display);
    services.push({ name: service, file: r });
  }
  return { host, services, problems };
}
