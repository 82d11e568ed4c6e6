import type { IptRule, Ruleset } from '../model/types.js';
import { CHAIN } from '../model/chains.js';

/**
 * One word of an iptables-restore line, quoted exactly as iptables-init's capture
 * (gfw_word) quotes it, so that a pre-built record and a captured one are the same bytes.
 */
export function restoreWord(word: string): string {
  if (word === '') return '""';
  if (/^[A-Za-z0-9_.,:/=+@%!-]+$/.test(word)) return word;
  if (word.includes('\n')) throw new Error(`a rule argument contains a newline: ${JSON.stringify(word)}`);
  return `"${word.replace(/[\\"]/g, '\\$&')}"`;
}

/** `R family table fragment -A CHAIN args`: what the capture writes for one iptables call. */
export function ruleRecord(rule: IptRule, fragment: string): string {
  return `R ${rule.family} ${rule.table} ${fragment} -A ${rule.chain}${rule.args.map((a) => ' ' + restoreWord(a)).join('')}`;
}

/** Where the dispatch's records say they come from, in payload comments and error messages. */
export const DISPATCH_ORIGIN = 'port-dispatch';

/**
 * The records iptables-init's capture would produce from the generated fragments, except
 * that in a family with a port dispatch the fragments' jumps into their chains are replaced
 * by the dispatch. `fileOf` names each fragment's file.
 */
export function prebuiltRecords(ruleset: Ruleset, fileOf: (service: string) => string): string[] {
  const dispatched = new Set(ruleset.dispatch.map((d) => d.family));
  const out: string[] = [];
  for (const f of ruleset.fragments) {
    const file = fileOf(f.service);
    for (const s of f.sections) {
      for (const r of s.rules) if (!(r.chain === CHAIN.inputRules && dispatched.has(r.family))) out.push(ruleRecord(r, file));
    }
  }
  for (const d of ruleset.dispatch) {
    for (const c of d.chains) out.push(`N ${d.family} filter ${c}`);
    for (const r of d.rules) out.push(ruleRecord(r, DISPATCH_ORIGIN));
  }
  return out;
}
