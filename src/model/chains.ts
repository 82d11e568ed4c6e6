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
  dockerUser: 'DOCKER-USER',
  dockerRules: 'GFW-DOCKER-RULES',
  /** direction: docker-out rules: connections containers start, jumped to from DOCKER-USER. */
  dockerOut: 'GFW-DOCKER-OUT',
  /** Inbound port dispatch (pre-built form): GFW-INPUT-RULES jumps here once. */
  inputPorts: 'GFW-I-PORTS',
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
