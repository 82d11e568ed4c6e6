import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { localeOrder } from '../shared/locale-order.js';
import type { HostConfig } from '../validate/schema.js';
import { ValueError, parseAddress, type Address } from '../validate/values.js';
import { displayPath } from './read-inputs.js';

/** One `sets:` file read: where it came from and its addresses, each once (the model's SetFile has this shape). */
export interface SetFile {
  origin: string;
  addresses: Address[];
}

/**
 * Where set `name`'s file is, or why it may not be read. A set file lives in the project
 * (gen-fw.yaml's directory, symlinks resolved): an absolute path or one that leads out of
 * it needs `allow_outside_project: true` on the set, so no config can have gen-fw read
 * (and report on) any file of the host.
 */
async function locate(base: string, name: string, def: HostConfig['sets'][string]): Promise<{ path: string } | { message: string }> {
  const path = resolve(base, def.file);
  const key = `sets.${name}`;
  if (def.allow_outside_project) return { path };
  if (isAbsolute(def.file)) {
    return {
      message: `is an absolute path; set files live in the project, relative to gen-fw.yaml's directory (or set ${key}.allow_outside_project: true)`,
    };
  }
  const outside = (rel: string) => rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel);
  const out = `leads out of the project (gen-fw.yaml's directory`;
  const advice = `keep set files inside it, or set ${key}.allow_outside_project: true`;
  if (outside(relative(base, path))) return { message: `${out}); ${advice}` };
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return { path }; // does not exist (yet): reading it says so
  }
  if (outside(relative(await realpath(base), real))) {
    return { message: `${out}, through a symlink); ${advice}` };
  }
  return { path };
}

/** Characters an address or CIDR is written with: such a token is quoted in messages, anything else is not. */
const ADDRESS_LIKE = /^[0-9A-Fa-f:./%]{1,50}$/;
/** How much of a token that is not an address a message shows. */
const PREFIX_SHOWN = 6;

/** What is wrong with a line of a set file, without echoing the line (the file may hold anything). */
function lineProblem(token: string, e: ValueError): string {
  if (ADDRESS_LIKE.test(token)) return e.message;
  const start = token.length > PREFIX_SHOWN ? `, starting ${JSON.stringify(token.slice(0, PREFIX_SHOWN))}…` : ` ${JSON.stringify(token)}`;
  return `not an address or CIDR (${token.length} characters${start})`;
}

/**
 * What reading each set gave, by name: a caller that reads sets twice (the lock-out guard
 * while loading, then the render) hands the same map to both, and each file is read and
 * parsed once (a 50,000-address list took ~0.2 s a time).
 */
export type SetsRead = Map<string, { set?: SetFile; problems: Problem[] }>;

/** Read every `sets:` file (or those named in `only`): one address or CIDR a line, `#` comments and blank lines allowed. */
export async function readSets(
  host: HostConfig,
  configPath: string | undefined,
  only?: readonly string[],
  read: SetsRead = new Map(),
): Promise<{ sets: Map<string, SetFile>; problems: Problem[] }> {
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const sets = new Map<string, SetFile>();
  const problems: Problem[] = [];
  for (const [name, def] of Object.entries(host.sets).sort(([a], [b]) => localeOrder(a, b))) {
    if (only && !only.includes(name)) continue;
    let r = read.get(name);
    if (!r) read.set(name, (r = await readSet(host, base, name, def)));
    if (r.set) sets.set(name, r.set);
    problems.push(...r.problems);
  }
  return { sets, problems };
}

async function readSet(
  host: HostConfig,
  base: string,
  name: string,
  def: HostConfig['sets'][string],
): Promise<{ set?: SetFile; problems: Problem[] }> {
  const at = await locate(base, name, def);
  if ('message' in at) return { problems: [{ file: displayPath(resolve(base, def.file)), key: `sets.${name}.file`, message: at.message }] };
  const file = displayPath(at.path);
  let text: string;
  try {
    text = await readFile(at.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'cannot read: permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot read (${code ?? 'error'})`;
    return { problems: [{ file, key: `sets.${name}.file`, message: why }] };
  }
  const problems: Problem[] = [];
  const addresses: Address[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const col = raw.length - raw.trimStart().length + 1;
    try {
      const a = parseAddress(line);
      if (a.any) throw new ValueError(`${a.text} matches everything; a set cannot hold it (hash:net needs a prefix of at least 1)`);
      if (!host.ipv6 && a.family === 6) throw new ValueError(`${a.text} is an IPv6 address but gen-fw.yaml says ipv6: false`);
      if (!seen.has(a.text)) {
        seen.add(a.text);
        addresses.push(a);
      }
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      problems.push({ file, line: i + 1, col, message: lineProblem(line, e) });
    }
  });
  return { set: { origin: file, addresses }, problems };
}
