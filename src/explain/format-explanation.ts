import { describeOrigin, ruleText } from './describe-origin.js';
import type { KernelAnswer } from './compare-kernel.js';
import { describePacket } from './packet.js';
import type { RuleLocator } from './rule-positions.js';
import type { Explanation, Step } from './walk.js';

const PEER = { answered: 'a reply or refusal came back', silent: 'nothing came back', blocked: 'the sender was refused at once' } as const;

/** A chain as people name it: the raw table's with its table (raw GFW-OUTPUT is not filter's GFW-OUTPUT). */
export const chainName = (s: Pick<Step, 'table' | 'chain'>) => (s.table ? `${s.table} ${s.chain}` : s.chain);

function stepLine(s: Step, e: Explanation, locate: RuleLocator): string {
  if (s.position === 0) return `  ${chainName(s)}: ${s.effect}`;
  return `  ${chainName(s)} #${s.position}: ${s.effect} — ${describeOrigin(s, e.verdict, locate)}: ${ruleText(s.args)}`;
}

function verdictText(e: Explanation): string {
  if (e.untracked) return `${e.verdict} (untracked: a notrack rule's CT --notrack; conntrack never sees it)`;
  if (e.audit) return `${e.verdict} (audit: mode audit logs it and lets it pass; enforce would drop or reject it)`;
  return e.limit ? `${e.verdict} (accepted until ${e.limit.hits} new connections per ${e.limit.seconds}s from one source)` : e.verdict;
}

/** The way and the verdict, one line per rule met; the kernel's answer beside it when there is one. */
export function formatExplanationText(e: Explanation, locate: RuleLocator, kernel?: KernelAnswer): string {
  const lines = [`packet: ${describePacket(e.packet)} (IPv${e.packet.family})`];
  for (const s of e.steps) lines.push(stepLine(s, e, locate));
  lines.push(`verdict: ${verdictText(e)}, decided by ${describeOrigin(e.decided, e.verdict, locate)}`);
  if (kernel) {
    const decided = kernel.decided ? `, decided by ${describeOrigin(kernel.decided, e.verdict, locate)}` : '';
    const moved =
      kernel.steps.map((s) => (s.position === 0 ? `${chainName(s)} policy` : `${chainName(s)} #${s.position}`)).join(', ') || 'none';
    lines.push(`kernel: ${kernel.verdict}${decided} (${PEER[kernel.peer]}; counters moved: ${moved})`);
    if (!kernel.agrees) lines.push('the kernel and the model disagree: this is a gen-fw bug (please report it with this output)');
  }
  return lines.join('\n');
}

function stepJson(s: Step, e: Explanation, locate: RuleLocator) {
  return {
    ...(s.table ? { table: s.table } : {}),
    chain: s.chain,
    position: s.position,
    rule: ruleText(s.args),
    effect: s.effect,
    origin: describeOrigin(s, e.verdict, locate),
  };
}

export function explanationJson(e: Explanation, locate: RuleLocator, kernel?: KernelAnswer) {
  return {
    packet: e.packet,
    verdict: e.verdict,
    decided: stepJson(e.decided, e, locate),
    ...(e.limit ? { rate_limit: { hits: e.limit.hits, seconds: e.limit.seconds } } : {}),
    ...(e.audit ? { reason: 'audit' } : {}),
    ...(e.untracked ? { untracked: true } : {}),
    steps: e.steps.map((s) => stepJson(s, e, locate)),
    ...(kernel
      ? {
          kernel: {
            verdict: kernel.verdict,
            agrees: kernel.agrees,
            peer: kernel.peer,
            decided: kernel.decided ? stepJson(kernel.decided, e, locate) : null,
            moved: kernel.steps.map((s) => stepJson(s, e, locate)),
          },
        }
      : {}),
  };
}
