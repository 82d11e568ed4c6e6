// Which chains are gen-fw's, which belong to other tools, which interfaces are Docker's
// bridges, and which chains are built in: the one place these facts are written. The render
// puts them into the settings of iptables-init (its --save filter and its capture) and
// iptables-check (its normaliser); `gen-fw check` reads them from here. A leaf module (no
// imports): every stage may read it.

/**
 * The chains gen-fw owns: it creates and flushes them, and --save and the drift check never
 * leave them out, whatever drift_check.ignore_chains says.
 */
export const OWNED_CHAIN_GLOBS: readonly string[] = ['GFW-*'];

/**
 * DOCKER-USER is Docker's chain (dockerd creates it and jumps to it first from FORWARD),
 * but with docker.enabled its contents are gen-fw's: the base rules fill it, so it is
 * saved and checked like a GFW- chain. Without Docker support it is Docker's, like the rest
 * of DOCKER*.
 */
export const DOCKER_USER_CHAIN = 'DOCKER-USER';

export function ownedChainGlobs(docker: { enabled: boolean }): string[] {
  return [...OWNED_CHAIN_GLOBS, ...(docker.enabled ? [DOCKER_USER_CHAIN] : [])];
}

/**
 * drift_check.ignore_chains when gen-fw.yaml does not say: the chains of Docker, Kubernetes,
 * CNI plugins, Calico and fail2ban. --save leaves them out, the drift check ignores them
 * (and the jumps into them), and a fragment may not create one.
 */
export const DEFAULT_IGNORE_CHAINS: readonly string[] = ['DOCKER*', 'KUBE-*', 'CNI-*', 'cali-*', 'f2b-*'];

/**
 * Docker's bridges: docker0 and the user-defined networks' br-<id> (iptables' "+" is any
 * run of characters). docker.bridge's default; a network created with
 * com.docker.network.bridge.name=NAME has a bridge named NAME, which docker.bridge must
 * list. Rules that dockerd puts straight into a built-in chain name one of them with -i or
 * -o; --save and the drift check leave such rules out, as they leave out the jumps into
 * Docker's chains.
 */
export const DOCKER_BRIDGES: readonly string[] = ['docker0', 'br-+'];

/** Docker's bridges on a host: the defaults, and every bridge of docker.bridge when Docker support is on. */
export function dockerBridgeGlobs(docker: { enabled: boolean; bridge: readonly string[] }): string[] {
  return [...new Set([...DOCKER_BRIDGES, ...(docker.enabled ? docker.bridge : [])])];
}

/**
 * Rules that dockerd writes into a chain that is not its own, as iptables-save prints them
 * (whole lines, an ERE each): the plain RETURN it appends to DOCKER-USER at every start
 * (gen-fw's own RETURN there carries a comment), and the hairpin MASQUERADE of a published
 * port in nat POSTROUTING (-s C/32 -d C/32, no interface). gen-fw's rules always carry a
 * comment, so none of them looks like these. --save and the drift check leave them out.
 */
export const DOCKER_OWN_RULES: readonly string[] = [
  '-A DOCKER-USER -j RETURN',
  '-A POSTROUTING -s [0-9.]+/32 -d [0-9.]+/32 -p (tcp|udp|sctp) -m (tcp|udp|sctp) --dport [0-9]+ -j MASQUERADE',
];

/** DOCKER_OWN_RULES as one ERE that awk, grep -E and JavaScript read alike. */
export function dockerOwnRulesRegex(): string {
  return `^(${DOCKER_OWN_RULES.join('|')})$`;
}

/**
 * Jumps from a built-in chain that must be its first rule: FORWARD's jump to DOCKER-USER,
 * which dockerd deletes and inserts at the top at every start (above its per-bridge
 * accepts). iptables-init moves it back to the top when it finds it lower, so the order
 * of a start of Docker and an apply of gen-fw does not matter. "table:CHAIN:TARGET".
 */
export const FIRST_JUMPS: readonly string[] = ['filter:FORWARD:DOCKER-USER'];

/** The built-in chains of every table: an absent table is the same as one with these, empty, at ACCEPT. */
export const BUILTIN_CHAINS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['filter', ['INPUT', 'FORWARD', 'OUTPUT']],
  ['nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']],
  ['mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']],
  ['raw', ['PREROUTING', 'OUTPUT']],
  ['security', ['INPUT', 'FORWARD', 'OUTPUT']],
];

/** The built-in chains as the runtime reads them (GFW_BUILTIN_CHAINS): "filter:INPUT filter:FORWARD ...". */
export function builtinChainWords(): string {
  return BUILTIN_CHAINS.flatMap(([table, chains]) => chains.map((c) => `${table}:${c}`)).join(' ');
}

/**
 * Chain- or interface-name globs to an ERE that awk, grep -E and JavaScript read alike: "*"
 * and iptables' "+" are any run of characters, "?" one. The other characters allowed in
 * globs need no escaping but ".". No globs: a regex that matches only the empty name.
 */
export function globsToRegex(globs: readonly string[]): string {
  if (globs.length === 0) return '^$';
  const one = (g: string) => g.replace(/\./g, '[.]').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\+/g, '.*');
  return `^(${globs.map(one).join('|')})$`;
}

/** What leaves a chain or a rule out of --save and the drift check: globs. */
export interface Ownership {
  /** Other tools' chains (drift_check.ignore_chains). */
  ignoreChains: readonly string[];
  /** gen-fw's chains, never left out. */
  ownedChains: readonly string[];
  /** Docker's bridges, whose rules in the built-in chains are Docker's. */
  dockerBridges: readonly string[];
  /** Docker's own rules in chains that are not Docker's (an ERE of whole rules). */
  foreignRules?: string;
}

/** A host's ownership facts, from its configuration. */
export function hostOwnership(host: {
  drift_check: { ignore_chains: readonly string[] };
  docker: { enabled: boolean; bridge: readonly string[] };
}): Ownership {
  return {
    ignoreChains: host.drift_check.ignore_chains,
    ownedChains: ownedChainGlobs(host.docker),
    dockerBridges: dockerBridgeGlobs(host.docker),
    foreignRules: dockerOwnRulesRegex(),
  };
}
