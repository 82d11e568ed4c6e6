/** Names of the chains gen-fw creates and owns. Everything it owns starts with GFW-, except DOCKER-USER. */
export const CHAIN = {
  input: 'GFW-INPUT',
  inputRules: 'GFW-INPUT-RULES',
  output: 'GFW-OUTPUT',
  outputRules: 'GFW-OUTPUT-RULES',
  forward: 'GFW-FORWARD',
  forwardRules: 'GFW-FORWARD-RULES',
  drop: 'GFW-DROP',
  reject: 'GFW-REJECT',
  /** mode: audit — log (FW-AUDIT: ) and accept what enforce would drop or reject (INPUT and OUTPUT). */
  audit: 'GFW-AUDIT',
  /**
   * mode: audit on the forward path (FORWARD, DOCKER-USER and the chains they reach): log
   * (FW-AUDIT: ) and RETURN, no verdict, so Docker's and Kubernetes' chains still decide.
   */
  auditPass: 'GFW-AUDIT-PASS',
  dockerUser: 'DOCKER-USER',
  dockerRules: 'GFW-DOCKER-RULES',
  /** direction: docker-out rules: connections containers start, jumped to from DOCKER-USER. */
  dockerOut: 'GFW-DOCKER-OUT',
  /** Inbound port dispatch (pre-built form): GFW-INPUT-RULES jumps here once. */
  inputPorts: 'GFW-I-PORTS',
  /** notrack rules' packets (filter), where no earlier rule could meet them otherwise: GFW-INPUT jumps here for untracked packets after the established accept. */
  inputUntracked: 'GFW-INPUT-UNTRACKED',
  /** notrack rules' replies (filter): GFW-OUTPUT jumps here for packets conntrack does not track. */
  outputUntracked: 'GFW-OUTPUT-UNTRACKED',
  /**
   * The raw table's chains, jumped to from raw PREROUTING and OUTPUT: the names iptables-init's
   * capture gives a fragment's own raw-table rules too. notrack rules put CT --notrack here.
   */
  rawPrerouting: 'GFW-PREROUTING',
  rawOutput: 'GFW-OUTPUT',
} as const;

/**
 * The chain whose presence marks a saved state as gen-fw's (iptables-init --save always
 * writes it, in both families): the drift check refuses to compare a saved state without it
 * (an empty rules.v4, a bare ruleset), which would prove nothing.
 */
export const SAVED_STATE_MARK = { table: 'filter', chain: CHAIN.input } as const;

/**
 * A service's inbound rules live in a chain of their own, GFW-I-<service> (28 characters at
 * most: iptables' limit). Service names are lower case; gen-fw's structural chains upper case.
 */
export function serviceInputChain(service: string): string {
  return `GFW-I-${service}`;
}

/** A node of the inbound port dispatch for one protocol: GFW-I-TCP, GFW-I-TCP-20000-20999. */
export function dispatchChain(proto: 'tcp' | 'udp', span?: { from: number; to: number }): string {
  const base = `GFW-I-${proto.toUpperCase()}`;
  return span ? `${base}-${span.from}-${span.to}` : base;
}

export const OWNED_PREFIX = 'GFW-';

export const METADATA = { 4: '169.254.169.254', 6: 'fd00:ec2::254' } as const;

/** The log prefix of mode: audit (GFW-AUDIT, GFW-AUDIT-PASS), and of a rule's `audit: true` after its service's name. */
export const AUDIT_PREFIX = 'FW-AUDIT: ';
export const RULE_AUDIT_SUFFIX = ' audit: ';
/** The kernel's limit on a LOG prefix, in bytes. */
const LOG_PREFIX_BYTES = 29;

/** `<service> audit: `, the service's name cut to fit the kernel's 29 bytes. */
export function ruleAuditPrefix(service: string): string {
  return service.slice(0, LOG_PREFIX_BYTES - RULE_AUDIT_SUFFIX.length) + RULE_AUDIT_SUFFIX;
}
