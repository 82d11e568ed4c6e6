import { AUDIT_CHAIN, AUDIT_TARGETS, COUNTED_BASE_RULES, DROP_TARGETS, SERVICE_CHAIN_RE } from '../model/counters.js';

/** One sum of packet counters: what gen-fw's rules dropped or audited for one reason (and service). */
export interface DropCount {
  kind: 'dropped' | 'audited';
  reason: string;
  /** Service rules only. */
  service?: string;
  packets: number;
}

/** The packet counters of a live dump (`iptables-save -c`), summed; whether it is in mode audit. */
export interface DropCounts {
  counts: DropCount[];
  auditMode: boolean;
}

const SERVICE_CHAIN = new RegExp(SERVICE_CHAIN_RE);
const DROPS = new Set(DROP_TARGETS);
const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,21}$/;
const COUNTERS = /^\[(\d+):\d+\][ \t]+/;
const COMMENT = /[ \t]--comment[ \t]+("(?:[^"\\]|\\.)*"|[^ \t]+)/;
/** A rule line that ends in its target: `... -j WORD` (iptables-save prints the target last). */
const END_TARGET = /[ \t]-j[ \t]+([^ \t"]+)$/;

/** The comment (unquoted as iptables-save quotes it) and the rule without it. */
function splitComment(rule: string): { comment: string; rest: string } {
  const m = COMMENT.exec(rule);
  if (!m) return { comment: '', rest: rule };
  const raw = m[1] as string;
  const comment = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return { comment, rest: rule.slice(0, m.index) + rule.slice(m.index + m[0].length) };
}

/**
 * What one rule of the filter table counts as, by its comment and target, as
 * runtime/check-counters.awk decides it for iptables-check (see src/model/counters.ts).
 */
export function classifyRule(chain: string, rule: string): Omit<DropCount, 'packets'> | undefined {
  if (!rule.includes('--comment')) return undefined;
  // Most rules accept. A line whose one "-j" is its last word but one names a target that,
  // when neither a drop nor an audit, is never counted: no comment unquoted, no line split
  // (as runtime/check-counters.awk skips them; the same answer for every line).
  const end = END_TARGET.exec(rule);
  if (end && rule.indexOf('-j') === rule.lastIndexOf('-j') && !DROPS.has(end[1]!) && !AUDIT_TARGETS.includes(end[1]!)) return undefined;
  const { comment, rest } = splitComment(rule);
  if (comment === '') return undefined;
  const words = rest.split(/[ \t]+/);
  const j = words.indexOf('-j');
  const target = j >= 0 ? (words[j + 1] ?? '') : '';
  const update = words.includes('--update');
  let reason: string | undefined;
  let service: string | undefined;
  if (comment.startsWith('gen-fw: ')) {
    reason = update ? 'rate_limit' : COUNTED_BASE_RULES[comment.slice('gen-fw: '.length)];
    if (!reason) return undefined;
  } else if (SERVICE_CHAIN.test(chain)) {
    service = comment.replace(/: .*/s, '');
    if (!SERVICE_NAME.test(service)) return undefined;
    reason = update ? 'rate_limit' : 'service';
  } else return undefined;
  let kind: DropCount['kind'];
  if (DROPS.has(target)) kind = 'dropped';
  else if (AUDIT_TARGETS.includes(target)) kind = 'audited';
  else if (target === '' && !words.includes('--set') && service !== undefined) kind = 'audited';
  else return undefined;
  return service === undefined ? { kind, reason } : { kind, reason, service };
}

/**
 * Reads the counters of a live dump as it comes (`push` pieces, then `end`); undefined at the
 * end when no rule carried counters (a dump saved without -c).
 */
export class DropCounter {
  private partial = '';
  private table = '';
  private withCounters = false;
  private auditMode = false;
  private readonly sums = new Map<string, { count: Omit<DropCount, 'packets'>; packets: number }>();

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() as string;
    for (const line of lines) this.read(line.trim());
  }

  end(): DropCounts | undefined {
    if (this.partial !== '') this.read(this.partial.trim());
    this.partial = '';
    if (!this.withCounters) return undefined;
    return { counts: [...this.sums.values()].map((s) => ({ ...s.count, packets: s.packets })), auditMode: this.auditMode };
  }

  private read(line: string): void {
    const first = line.charCodeAt(0);
    if (first === 42 /* * */) this.table = line.slice(1);
    else if (first === 58 /* : */) {
      if (this.table === 'filter' && line.split(/[ \t]+/, 1)[0] === `:${AUDIT_CHAIN}`) this.auditMode = true;
    } else if (first === 91 /* [ */) {
      const m = COUNTERS.exec(line);
      if (!m) return;
      this.withCounters = true;
      if (this.table !== 'filter') return;
      const rule = line.slice(m[0].length);
      const chain = rule.split(/[ \t]+/, 2)[1] ?? '';
      const c = classifyRule(chain, rule);
      if (!c) return;
      const key = `${c.kind} ${c.reason} ${c.service ?? '-'}`;
      const sum = this.sums.get(key);
      if (sum) sum.packets += Number(m[1]);
      else this.sums.set(key, { count: c, packets: Number(m[1]) });
    }
  }
}
