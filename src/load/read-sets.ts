import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import type { HostConfig } from '../validate/schema.js';
import { ValueError, parseAddress, type Address } from '../validate/values.js';
import { displayPath } from './read-inputs.js';

/** One `sets:` file read: where it came from and its addresses, each once (the model's SetFile has this shape). */
export interface SetFile {
  origin: string;
  addresses: Address[];
}

/** Read every `sets:` file: one address or CIDR a line, `#` comments and blank lines allowed. */
export async function readSets(
  host: HostConfig,
  configPath: string | undefined,
  only?: readonly string[],
): Promise<{ sets: Map<string, SetFile>; problems: Problem[] }> {
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const sets = new Map<string, SetFile>();
  const problems: Problem[] = [];
  for (const [name, def] of Object.entries(host.sets).sort(([a], [b]) => a.localeCompare(b))) {
    if (only && !only.includes(name)) continue;
    const path = resolve(base, def.file);
    const file = displayPath(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({ file, key: `sets.${name}.file`, message: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` });
      continue;
    }
    const addresses: Address[] = [];
    const seen = new Set<string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
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
        problems.push({ file, line: i + 1, col: 1, message: e.message });
      }
    });
    sets.set(name, { origin: file, addresses });
  }
  return { sets, problems };
}
