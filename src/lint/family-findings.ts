import type { Service } from '../validate/validate-config.js';
import type { Family } from '../validate/values.js';
import type { Finding } from './finding.js';
import { covers, normalise, span, type IntervalSet } from './intervals.js';
import type { LintFragment } from './paths.js';
import type { Places } from './places.js';

type Proto = 'tcp' | 'udp';
const PORTS_OF_ALL = span(1, 65535);

function portsText(set: IntervalSet): string {
  return set.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');
}

type Rule = Service['rules'][number];

const protosOf = (proto: string): Proto[] => (proto === 'all' ? ['tcp', 'udp'] : proto === 'tcp' || proto === 'udp' ? [proto] : []);
const portsOf = (rule: Rule): IntervalSet => normalise((rule.dport ?? [{ from: 1, to: 65535 }]).flatMap((p) => span(p.from, p.to)));

/** What a service accepts, per family, direction and protocol (`4/in/tcp`): the ports. */
function openPorts(rules: readonly Rule[], fragment: LintFragment): Map<string, IntervalSet> {
  const open = new Map<string, IntervalSet>();
  rules.forEach((rule, i) => {
    if (rule.action !== 'accept') return;
    const ports = portsOf(rule);
    for (const family of fragment.sections[i]?.families ?? []) {
      for (const p of protosOf(rule.proto)) {
        const k = `${family}/${rule.direction}/${p}`;
        const before = open.get(k);
        open.set(k, before ? normalise([...before, ...ports]) : ports);
      }
    }
  });
  return open;
}

/**
 * one-family: with ipv6 on, a service rule whose addresses are all of one family opens
 * ports there that the service opens nowhere in the other family. Said so that nobody is
 * surprised when the other family stays closed.
 */
export function familyFindings(
  services: readonly Service[],
  fragments: readonly LintFragment[],
  ipv6: boolean,
  places: Places,
  isUnreachable: (service: string, index: number) => boolean,
): Finding[] {
  if (!ipv6) return [];
  const out: Finding[] = [];
  const byName = new Map(fragments.map((f) => [f.service, f]));
  for (const s of services) {
    const f = byName.get(s.name);
    if (!f) continue;
    // Made when the service has a rule to judge (most have none).
    let open: Map<string, IntervalSet> | undefined;
    s.rules.forEach((rule, i) => {
      if (rule.action !== 'accept' || (rule.direction !== 'in' && rule.direction !== 'docker')) return;
      if (!rule.source && !rule.destination) return;
      const fams = f.sections[i]?.families ?? [];
      if (fams.length !== 1 || isUnreachable(s.name, i)) return;
      const family = fams[0]!;
      const other: Family = family === 4 ? 6 : 4;
      open ??= openPorts(s.rules, f);
      const mine = portsOf(rule);
      const closed = protosOf(rule.proto).flatMap((p) => {
        const there = open!.get(`${other}/${rule.direction}/${p}`) ?? [];
        return covers(there, mine) ? [] : [`${p} ${covers(mine, PORTS_OF_ALL) ? 'every port' : portsText(mine)}`];
      });
      if (closed.length === 0) return;
      const which = rule.source ? 'source' : 'destination';
      out.push({
        kind: 'one-family',
        at: places.inFile(s.file, ['rules', i, which]),
        message: `one-family: opens ${closed.join(' and ')} over IPv${family} only (its ${which} addresses are all IPv${family}) while ipv6 is on: IPv${other} stays closed there for this service; add its IPv${other} addresses if clients come over IPv${other} too`,
        related: [],
      });
    });
  }
  return out;
}
