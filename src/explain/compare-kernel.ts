import { CHAIN } from '../model/chains.js';
import type { Chain, FamilyTable } from './assemble-chains.js';
import { targetOf } from './match-rule.js';
import { RAW_HOOK, type Explanation, type Step, type Verdict } from './walk.js';

/** What the kernel showed for one packet: the counters that moved (position 0: the chain's policy) and what the other side saw. */
export interface KernelObservation {
  /** table: raw for the raw table's counters; the filter table's have none. */
  moved: { table?: 'raw'; chain: string; position: number }[];
  /** answered: a reply or a refusal came back; silent: nothing; blocked: the sending host's own firewall refused it. */
  peer: 'answered' | 'silent' | 'blocked';
}

export interface KernelAnswer {
  verdict: Verdict | 'unknown';
  /** The rules whose counters moved (those the packet can have met), as steps of the model's table. */
  steps: Step[];
  decided?: Step;
  peer: KernelObservation['peer'];
  agrees: boolean;
}

const HOOK = { in: 'INPUT', out: 'OUTPUT', forward: 'FORWARD', docker: 'FORWARD', 'docker-out': 'FORWARD' } as const;
const key = (s: { table?: 'raw'; chain: string; position: number }) => `${s.table ?? 'filter'}:${s.chain}#${s.position}`;

/**
 * The chains the packet entered: the hook's built-in chain, and those a moved jump or goto
 * leads to from there. (Replies and the kernel's own ICMP errors move other counters: a
 * reply from a denied address ends in the shared drop chain, but no rule on our path jumped there.)
 */
function entered(chains: ReadonlyMap<string, Chain>, from: string, moved: ReadonlySet<string>, prefix: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  while (todo.length) {
    const name = todo.pop()!;
    (chains.get(name)?.rules ?? []).forEach((r, i) => {
      const t = targetOf(r.args);
      if (t.chain && moved.has(`${prefix}:${name}#${i + 1}`) && !seen.has(t.chain)) {
        seen.add(t.chain);
        todo.push(t.chain);
      }
    });
  }
  return seen;
}

/** Could a rule with these arguments have met a packet of this protocol? (ICMPv6 housekeeping moves counters too.) */
function couldMeet(args: readonly string[], p: Explanation['packet'], untracked: boolean): boolean {
  // The kernel's own IPv6 housekeeping (MLD) goes out untracked: only our packet's own UNTRACKED counts.
  const ct = args.indexOf('--ctstate');
  if (!untracked && ct >= 0 && args[ct + 1] === 'UNTRACKED') return false;
  const i = args.indexOf('-p');
  if (i >= 0 && args[i + 1] !== p.proto) return false;
  // The kernel's own ICMP error for a REJECT in OUTPUT goes out through lo.
  const dev = args.indexOf(p.direction === 'out' ? '-o' : '-i');
  if (dev >= 0 && args[dev + 1] === 'lo' && p.interface !== 'lo') return false;
  // Our ICMP packets are echo requests: neighbour discovery and MLD move the other types' counters.
  const t = Math.max(args.indexOf('--icmp-type'), args.indexOf('--icmpv6-type'));
  return t < 0 || ['echo-request', '8', '128'].includes(args[t + 1] ?? '');
}

/**
 * Counters worth comparing: a log rule stops counting once its limit's burst is spent; of the
 * raw table only the CT --notrack rules (every packet, replies and neighbour discovery
 * included, moves its jumps and policies).
 */
function counted(s: Step): boolean {
  if (s.table === 'raw') return s.position > 0 && targetOf(s.args).kind === 'CT';
  return s.origin.kind !== 'end' && s.origin.kind !== 'docker' && !s.underLimit && targetOf(s.args).kind !== 'LOG';
}

/** The kernel's answer for a packet, read from its counters, and whether it is the model's. */
export function compareKernel(table: FamilyTable, model: Explanation, seen: KernelObservation): KernelAnswer {
  const p = model.packet;
  const movedKeys = new Set(seen.moved.map(key));
  const reach = entered(table.chains, HOOK[p.direction], movedKeys, 'filter');
  const rawReach = entered(table.raw, RAW_HOOK[p.direction], movedKeys, 'raw');
  const steps: Step[] = [];
  for (const m of seen.moved) {
    if (m.table === 'raw') {
      const r = rawReach.has(m.chain) && m.position > 0 ? table.raw.get(m.chain)?.rules[m.position - 1] : undefined;
      if (r && couldMeet(r.args, p, model.untracked === true))
        steps.push({ table: 'raw', chain: m.chain, position: m.position, args: r.args, origin: r.origin, effect: targetOf(r.args).kind });
      continue;
    }
    if (!reach.has(m.chain)) continue;
    const chain = table.chains.get(m.chain);
    if (!chain) continue;
    if (m.position === 0) {
      steps.push({ chain: m.chain, position: 0, args: [], origin: { kind: 'policy' }, effect: `policy ${chain.policy}` });
      continue;
    }
    const r = chain.rules[m.position - 1];
    if (!r || !couldMeet(r.args, p, model.untracked === true)) continue;
    const t = targetOf(r.args);
    steps.push({ chain: m.chain, position: m.position, args: r.args, origin: r.origin, effect: t.chain ? `${t.kind} ${t.chain}` : t.kind });
  }
  const kernel = steps.filter(counted);
  const terminal = kernel.filter((s) => (!s.table && s.position === 0) || ['ACCEPT', 'DROP', 'REJECT'].includes(targetOf(s.args).kind));
  let verdict: KernelAnswer['verdict'] = 'unknown';
  if (terminal.length === 1) {
    const t = terminal[0]!;
    const kind = t.position === 0 ? table.chains.get(t.chain)?.policy : targetOf(t.args).kind;
    verdict = kind === 'ACCEPT' ? 'accept' : kind === 'REJECT' ? 'reject' : 'drop';
  }
  const verdictChains = new Set<string>([CHAIN.drop, CHAIN.reject, CHAIN.audit]);
  const decided =
    kernel.find(
      (s) =>
        !s.table &&
        !verdictChains.has(s.chain) &&
        (s.position === 0 ||
          ['ACCEPT', 'DROP', 'REJECT'].includes(targetOf(s.args).kind) ||
          verdictChains.has(targetOf(s.args).chain ?? '')),
    ) ?? terminal[0];
  const want = new Set(model.steps.filter(counted).map(key));
  const got = new Set(kernel.map(key));
  const agrees = verdict === model.verdict && want.size === got.size && [...want].every((k) => got.has(k));
  return { verdict, steps: kernel, decided, peer: seen.peer, agrees };
}
