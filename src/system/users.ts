import { readFileSync } from 'node:fs';

/** A local user by name, from /etc/passwd (uid and primary gid); undefined when there is none. */
export function lookupUser(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** A local group's gid by name, from /etc/group; undefined when there is none. */
export function lookupGroup(name: string, group = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(group, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3) return Number(f[2]);
  }
  return undefined;
}
