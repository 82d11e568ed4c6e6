import { ValueError, show } from './value-error.js';

// The drift check's globs, in a module of their own: `gen-fw check` loads this, and not the
// definition (schema.ts) or the rest of the value parsers (ipaddr.js).

/** drift_check.ignore_chains when gen-fw.yaml does not say: one owner, src/shared/ownership.ts. */
export { DEFAULT_IGNORE_CHAINS } from '../shared/ownership.js';

/**
 * Names an ignore glob must never match: the built-in chains, the targets a rule jumps to
 * (a rule "jumping into" an ignored chain is left out too, so "*" would take -j ACCEPT with
 * it). Leaving those out would save a ruleset that boots open and a drift check blind to
 * the changes that matter. (gen-fw's own chains are never left out, whatever the globs.)
 */
const NEVER_IGNORED = [
  'INPUT',
  'OUTPUT',
  'FORWARD',
  'PREROUTING',
  'POSTROUTING',
  'ACCEPT',
  'DROP',
  'REJECT',
  'RETURN',
  'LOG',
  'NFLOG',
  'QUEUE',
  'NFQUEUE',
  'AUDIT',
  'MASQUERADE',
  'SNAT',
  'DNAT',
  'REDIRECT',
  'MARK',
  'CONNMARK',
  'CT',
  'NOTRACK',
  'TCPMSS',
  'TRACE',
];

/** Chain-name globs for the drift check: iptables chain characters plus "*" and "?". */
export function parseChainGlob(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.*?-]{1,28}$/.test(value)) {
    throw new ValueError(`${show(value)} is not a chain-name glob (letters, digits, "_.-", "*" and "?")`);
  }
  const re = new RegExp(`^${value.replace(/\./g, '[.]').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const hit = NEVER_IGNORED.find((name) => re.test(name));
  if (hit) {
    throw new ValueError(
      `${show(value)} would also match ${hit} (a built-in chain or a target): the saved state and the drift check would lose gen-fw's own rules; name other tools' chains, e.g. "DOCKER*"`,
    );
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
