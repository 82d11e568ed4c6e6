import type { SetDump } from './types.js';

/**
 * gen-fw's sets; others' sets (Docker, Kubernetes, fail2ban, ...) are not ours to check, and
 * gfw-tmp.N are iptables-init's sets being loaded (as its --save leaves them out). The dot
 * keeps them apart from the user's: a set `tmp-1` is gfw-tmp-1-v4, and set names have no dot.
 */
export const OWNED_SETS = /^gfw-(?!tmp\.)/;

/** Options the kernel picks or that change by themselves: not part of a set's definition. */
const KERNEL_CHOSEN = new Set(['hashsize', 'bucketsize', 'initval']);

/**
 * Parse `ipset save` output (create/add lines), gfw-* sets only. A member keeps its
 * `nomatch` flag and loses what changes on its own: timeouts left, packet and byte
 * counters, comments.
 */
export function parseIpsets(text: string): SetDump {
  const definitions = new Map<string, string>();
  const members = new Map<string, Set<string>>();
  for (const raw of text.split('\n')) {
    const w = raw.trim().split(/[ \t]+/);
    const [verb, name, third] = w;
    if (name === undefined || third === undefined || !OWNED_SETS.test(name)) continue;
    if (verb === 'create') {
      const kept: string[] = [];
      for (let i = 2; i < w.length; i++) {
        if (KERNEL_CHOSEN.has(w[i] as string)) i++;
        else kept.push(w[i] as string);
      }
      definitions.set(name, kept.join(' '));
      if (!members.has(name)) members.set(name, new Set());
    } else if (verb === 'add') {
      const member = w.slice(3).includes('nomatch') ? `${third} nomatch` : third;
      const set = members.get(name) ?? new Set<string>();
      set.add(member);
      members.set(name, set);
    }
  }
  return { definitions, members };
}
