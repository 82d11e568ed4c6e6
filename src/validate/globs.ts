import { ValueError, show } from './value-error.js';

// The drift check's globs, in a module of their own: `gen-fw check` loads this, and not the
// schema (zod) or the rest of the value parsers (ipaddr.js).

/** drift_check.ignore_chains when gen-fw.yaml does not say: Docker, Kubernetes, CNI and Calico. */
export const DEFAULT_IGNORE_CHAINS: readonly string[] = ['DOCKER*', 'KUBE-*', 'CNI-*', 'cali-*'];

/**
 * Docker's bridges: docker0 and the user-defined networks' br-<id>. Rules that dockerd puts
 * straight into a built-in chain name one of them with -i or -o; --save and the drift
 * check leave such rules out, as they leave out the jumps into Docker's chains.
 */
export const DOCKER_BRIDGES: readonly string[] = ['docker0', 'br-*'];

/** Chain-name globs for the drift check: iptables chain characters plus "*" and "?". */
export function parseChainGlob(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.*?-]{1,28}$/.test(value)) {
    throw new ValueError(`${show(value)} is not a chain-name glob (letters, digits, "_.-", "*" and "?")`);
  }
  return value;
}

/** Interface-name globs for the drift check: interface characters plus "*", "?" and iptables' trailing "+". */
export function parseInterfaceGlob(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:@*?+-]{1,15}$/.test(value)) {
    throw new ValueError(`${show(value)} is not an interface-name glob (at most 15 of letters, digits, "_.:@-", "*", "?" and "+")`);
  }
  return value;
}

/**
 * Chain- or interface-name globs to an awk ERE: "*" and iptables' "+" are any run of
 * characters, "?" one. The other characters allowed in globs need no escaping but ".".
 */
export function globsToRegex(globs: readonly string[]): string {
  if (globs.length === 0) return '^$';
  const one = (g: string) => g.replace(/\./g, '[.]').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\+/g, '.*');
  return `^(${globs.map(one).join('|')})$`;
}
