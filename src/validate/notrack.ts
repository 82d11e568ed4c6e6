import type { RuleConfig } from './schema.js';
import type { PortRange } from './values.js';

/** The first port of the list that any user may bind (1024 and up), as written; undefined if none. */
function unprivileged(ports: PortRange[]): string | undefined {
  const p = ports.find((r) => r.to >= 1024);
  if (!p) return undefined;
  return p.from === p.to ? String(p.from) : `${p.from}:${p.to}`;
}

/**
 * notrack: true skips conntrack for a local service's port (and its replies): only an `in`
 * rule that accepts tcp or udp on a dport can say it, and nothing that needs conntrack
 * (rate_limit) can sit beside it. Its UDP replies are accepted by source port alone (there
 * is no SYN to tell a reply from a new flow): without a `source`, that is "anything from
 * port N to anywhere", which only root may be trusted with, so an unprivileged port needs a
 * source. `at(key, message)` reports a problem at the rule's key.
 */
export function checkNotrack(rule: RuleConfig, at: (key: string, message: string) => void): void {
  if (!rule.notrack) return;
  if (rule.direction !== 'in') {
    at(
      'notrack',
      `notrack works on in rules only (it lets a local service's port and its replies skip conntrack); this rule's direction is ${rule.direction}`,
    );
    return;
  }
  if (rule.proto !== 'tcp' && rule.proto !== 'udp') {
    at('notrack', `notrack needs proto: tcp or proto: udp and a dport (proto is ${rule.proto})`);
    return;
  }
  if (!rule.dport) at('notrack', 'notrack needs a dport: the port whose packets and replies skip conntrack');
  else if (rule.proto === 'udp' && !rule.source) {
    const open = unprivileged(rule.dport);
    if (open) {
      at(
        'notrack',
        `notrack on udp port ${open} without source: its replies are accepted by source port alone, so any local user could send anywhere from port ${open}, past the output rules; ` +
          'give source: (who may ask, and so where replies may go), or use a port below 1024 (only root can bind those)',
      );
    }
  }
  if (rule.rate_limit)
    at('rate_limit', 'rate_limit counts new connections, which needs conntrack; a notrack rule has none (drop notrack, or the rate limit)');
  if (rule.action !== 'accept')
    at('notrack', `notrack accepts packets without conntrack; this rule's action is ${rule.action} (a drop or reject needs no notrack)`);
}
