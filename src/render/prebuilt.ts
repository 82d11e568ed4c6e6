import type { Dispatch, FragmentModel, IptRule } from '../model/types.js';
import { CHAIN } from '../model/chains.js';
import type { Family } from '../validate/values.js';

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

/**
 * `R family table fragment -A CHAIN args`: what the capture writes for one iptables call.
 * Joined, not concatenated: a record is kept until the whole file is rendered, and V8 keeps
 * a concatenation as a rope of its pieces, several times the size of the text.
 */
export function ruleRecord(rule: IptRule, fragment: string): string {
  // Made to its size once (no regrowth while pushing): one per rule of every fragment.
  const args = rule.args;
  const words = new Array<string>(6 + args.length);
  words[0] = 'R';
  words[1] = String(rule.family);
  words[2] = rule.table;
  words[3] = fragment;
  words[4] = '-A';
  words[5] = rule.chain;
  for (let i = 0; i < args.length; i++) words[6 + i] = restoreWord(args[i]!);
  return words.join(' ');
}

/** Where the dispatch's records say they come from, in payload comments and error messages. */
export const DISPATCH_ORIGIN = 'port-dispatch';

/**
 * The records iptables-init's capture would produce from the generated fragments, collected
 * one fragment at a time, except that in a family with a port dispatch the fragments' jumps
 * into their chains are replaced by the dispatch (known only once every fragment is in).
 * Records are kept as runs of lines: one string per run, not one per record.
 */
export class PrebuiltRecords {
  private runs: string[] = [];
  /** Per run: the family of a jump from GFW-INPUT-RULES (a run of one line), or 0. */
  private jumps: (Family | 0)[] = [];

  add(fragment: FragmentModel, file: string): void {
    let run: string[] = [];
    const flush = () => {
      if (run.length === 0) return;
      this.runs.push(run.join('\n'));
      this.jumps.push(0);
      run = [];
    };
    for (const s of fragment.sections) {
      for (const r of s.rules) {
        if (r.chain !== CHAIN.inputRules) {
          run.push(ruleRecord(r, file));
          continue;
        }
        flush();
        this.runs.push(ruleRecord(r, file));
        this.jumps.push(r.family);
      }
    }
    flush();
  }

  /**
   * Every record, in capture order: the fragments', then the dispatch's chains and rules.
   * An entry may hold several lines (never an empty one): written one entry a line, the
   * result is one record a line.
   */
  finish(dispatch: readonly Dispatch[]): { records: string[]; dispatched: boolean } {
    const dispatched = new Set<Family | 0>(dispatch.map((d) => d.family));
    const out = dispatched.size === 0 ? this.runs : this.runs.filter((_, i) => !dispatched.has(this.jumps[i]!));
    // Handed over: the caller decides how long the records live.
    this.runs = [];
    this.jumps = [];
    for (const d of dispatch) {
      for (const c of d.chains) out.push(`N ${d.family} filter ${c}`);
      for (const r of d.rules) out.push(ruleRecord(r, DISPATCH_ORIGIN));
    }
    return { records: out, dispatched: dispatched.size > 0 };
  }
}
