import { CHAIN } from './chains.js';

/**
 * Which of gen-fw's rules count as drops (and, in mode audit or with `audit: true`, as
 * audits), and why: the facts that iptables-check (runtime/check-counters.awk, through its
 * settings) and gen-fw check (src/check/count-drops.ts) read the packet counters of
 * `iptables-save -c` by. A rule is known by its comment: `gen-fw: NAME` for a base rule,
 * the service's name (`web`, or `web: text`) for a service's rule in a service chain.
 */
export const COUNT_REASONS = ['final', 'deny', 'rate_limit', 'metadata', 'invalid', 'service'] as const;
export type CountReason = (typeof COUNT_REASONS)[number];

/** Base rules that drop (or audit), by the NAME of their `gen-fw: NAME` comment. */
export const COUNTED_BASE_RULES: Readonly<Record<string, CountReason>> = {
  final: 'final',
  deny: 'deny',
  invalid: 'invalid',
  'metadata for others': 'metadata',
  'metadata blocked': 'metadata',
  'docker metadata': 'metadata',
  // DOCKER-USER's final drop: new connections to a published port that no docker rule allows.
  'docker published, not allowed': 'final',
};

/** Targets that drop or reject, directly or through gen-fw's logging chains. */
export const DROP_TARGETS: readonly string[] = ['DROP', 'REJECT', CHAIN.drop, CHAIN.reject];

/** The chain whose presence marks a live ruleset as in mode audit. */
export const AUDIT_CHAIN = CHAIN.audit;

/** The targets of what mode audit logs instead of dropping: accepted (INPUT, OUTPUT) or passed on (the forward path). */
export const AUDIT_TARGETS: readonly string[] = [CHAIN.audit, CHAIN.auditPass];

/**
 * The chains a service's rules live in (GFW-I-<service>: service names start with a lower-case
 * letter or digit, the dispatch chains GFW-I-TCP... do not).
 */
export const SERVICE_CHAIN_RE = `^(GFW-I-[a-z0-9].*|${CHAIN.outputRules}|${CHAIN.forwardRules}|${CHAIN.dockerRules}|${CHAIN.dockerOut})$`;

/** The base rules as iptables-check's settings hold them: `NAME=REASON|...`. */
export function countedBaseRulesWords(): string {
  return Object.entries(COUNTED_BASE_RULES)
    .map(([name, reason]) => `${name}=${reason}`)
    .join('|');
}
