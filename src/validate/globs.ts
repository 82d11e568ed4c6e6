import { ValueError, show } from './value-error.js';

// The drift check's globs, in a module of their own: `gen-fw check` loads this, and not the
// definition (schema.ts) or the rest of the value parsers (ipaddr.js).

/** drift_check.ignore_chains when gen-fw.yaml does not say: one owner, src/shared/ownership.ts. */
export { DEFAULT_IGNORE_CHAINS } from '../shared/ownership.js';

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
