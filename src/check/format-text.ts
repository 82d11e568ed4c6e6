import type { Change, RulesetName, RulesetResult } from './types.js';

export function rulesetLabel(r: RulesetName): string {
  return r === 'ipv4' ? 'IPv4' : r === 'ipv6' ? 'IPv6' : 'ipsets';
}

/** One line per change, rules as iptables-save writes them (copy the `-A ...` to act on it). */
export function formatChange(c: Change): string {
  const where = `${c.table} ${c.chain}`;
  const sets = c.table === 'set';
  switch (c.kind) {
    case 'policy':
      return `  ${where}: ${sets ? 'definition' : 'policy'} ${c.saved} -> ${c.live}`;
    case 'chain-added':
      return `  ${where}: ${sets ? 'set' : 'chain'} added`;
    case 'chain-removed':
      return `  ${where}: ${sets ? 'set' : 'chain'} removed`;
    case 'rule-added':
      return `  ${where}: + ${c.rule}`;
    case 'rule-removed':
      return `  ${where}: - ${c.rule}`;
  }
}

/** `IPv4: drift (rules: 1 added, 0 removed; policies: 1 changed; chains: 0 added, 0 removed)`. */
export function formatSummary(r: RulesetResult): string {
  const label = rulesetLabel(r.ruleset);
  const t = r.tally;
  if (r.status === 'error') return `${label}: cannot check: ${r.error?.message ?? 'unknown error'}`;
  if (r.status === 'in-sync') return `${label}: in sync (${r.size} ${r.ruleset === 'ipsets' ? 'members' : 'rules'})`;
  if (r.ruleset === 'ipsets') {
    return `${label}: drift (members: ${t.rulesAdded} added, ${t.rulesRemoved} removed; sets: ${t.policiesChanged} changed, ${t.chainsAdded} added, ${t.chainsRemoved} removed)`;
  }
  return `${label}: drift (rules: ${t.rulesAdded} added, ${t.rulesRemoved} removed; policies: ${t.policiesChanged} changed; chains: ${t.chainsAdded} added, ${t.chainsRemoved} removed)`;
}

/** The report for stdout: a summary line per ruleset checked, and the changes under it. */
export function formatText(results: readonly RulesetResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.status === 'error') continue;
    lines.push(formatSummary(r));
    for (const c of r.changes) lines.push(formatChange(c)); // no spread: a change list can be 100,000 long
  }
  return lines;
}
