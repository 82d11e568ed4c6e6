import { BUILTIN_CHAINS } from '../../src/shared/ownership.js';
import type { Bench } from './netns.js';
import { waitFor as pollFor } from './wait-for.js';

// An iptables-save dump split into what gen-fw owns and what belongs to everybody else, as
// the rollback must tell them apart; and the ipsets, to see rules and members together.

const builtins = new Set(BUILTIN_CHAINS.flatMap(([table, chains]) => chains.map((c) => `${table}:${c}`)));

/** Each rule line of a dump with its table in front ("filter -A INPUT ..."); declarations without counters. */
function tableLines(dump: string): string[] {
  const out: string[] = [];
  let table = '';
  for (const raw of dump.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (!line || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    out.push(`${table} ${line.replace(/ \[\d+:\d+\]$/, '')}`);
  }
  return out;
}

function isOurs(tableLine: string, dockerUser: boolean): boolean {
  const [table, first, second, third, fourth, ...rest] = tableLine.split(' ');
  if (first!.startsWith(':')) {
    const chain = first!.slice(1);
    return builtins.has(`${table}:${chain}`) || chain.startsWith('GFW-');
  }
  if (first !== '-A') return false;
  if (second!.startsWith('GFW-') || (dockerUser && second === 'DOCKER-USER')) return true;
  // A plain jump from a built-in chain into one of ours.
  return builtins.has(`${table}:${second}`) && third === '-j' && fourth!.startsWith('GFW-') && rest.length === 0;
}

/**
 * gen-fw's part of a dump: the built-in policies, the GFW- chains and their rules, the plain
 * jumps from the built-in chains into them (in order), DOCKER-USER's rules when Docker support is on.
 */
export function genfwPart(dump: string, opts: { dockerUser: boolean }): string[] {
  return tableLines(dump).filter((l) => isOurs(l, opts.dockerUser));
}

/** Everything else: other tools' chains, their rules and jumps, in order. */
export function otherPart(dump: string, opts: { dockerUser: boolean }): string[] {
  return tableLines(dump).filter((l) => !isOurs(l, opts.dockerUser));
}

/** An `ipset save` as name -> sorted members (every set). */
export function setMembers(save: string): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    const [cmd, name, member] = line.split(' ');
    if (cmd === 'create') sets.set(name!, sets.get(name!) ?? []);
    if (cmd === 'add') sets.set(name!, [...(sets.get(name!) ?? []), member!]);
  }
  for (const members of sets.values()) members.sort();
  return sets;
}

/** gen-fw's part with each set a rule names replaced by its members: what the kernel matches. */
export function effectivePart(dump: string, ipsetSave: string, opts: { dockerUser: boolean }): string[] {
  const sets = setMembers(ipsetSave);
  return genfwPart(dump, opts).map((l) =>
    l.replace(/--match-set (\S+)/g, (_, name: string) => `--match-set {${(sets.get(name) ?? ['MISSING']).join(',')}}`),
  );
}

/** The inode of a namespace's network namespace: how iptables-init names its lock and try directory. */
export async function netnsInode(bench: Bench, ns: string = bench.host): Promise<string> {
  return (await bench.exec(ns, 'stat', ['-L', '-c', '%i', '/proc/self/ns/net'])).stdout.trim();
}

/** Poll until `done()` holds (the shared waitFor); throws with `what` after the deadline. */
export async function waitFor(what: string, done: () => Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  await pollFor(done, { what, timeoutMs: deadlineMs });
}
