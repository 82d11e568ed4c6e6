import type { RuleConfig } from './schema.js';

/**
 * notrack: true skips conntrack for a local service's port (and its replies): only an `in`
 * rule that accepts tcp or udp on a dport can say it, and nothing that needs conntrack
 * (rate_limit) can sit beside it. `at(key, message)` reports a problem at the rule's key.
 */
export function checkNotrack(rule: RuleConfig, at: (key: string, message: string) => void): void {
  if (!rule.notrack) return;
  if (rule.direction !== 'in') {
    at('notrack', `notrack works on in rules only (it lets a local service's port and its replies skip conntrack); this rule's direction is ${rule.direction}`);
    return;
  }
  if (rule.proto !== 'tcp' && rule.proto !== 'udp') {
    at('notrack', `notrack needs proto: tcp or proto: udp and a dport (proto is ${rule.proto})`);
    return;
  }
  if (!rule.dport) at('notrack', 'notrack needs a dport: the port whose packets and replies skip conntrack');
  if (rule.rate_limit) at('rate_limit', 'rate_limit counts new connections, which needs conntrack; a notrack rule has none (drop notrack, or the rate limit)');
  if (rule.action !== 'accept') at('notrack', `notrack accepts packets without conntrack; this rule's action is ${rule.action} (a drop or reject needs no notrack)`);
}
