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
    const famsOf = (i: number) => f.sections[i]?.families ?? [];
    // What the service accepts in each family and direction, per protocol.
    const open = new Map<string, IntervalSet>();
    const key = (family: Family, direction: string, proto: Proto) => `${family}/${direction}/${proto}`;
    const ports = new Map<Service['rules'][number], IntervalSet>();
    const portsOf = (rule: Service['rules'][number]) => {
      let set = ports.get(rule);
      if (!set) ports.set(rule, (set = normalise((rule.dport ?? [{ from: 1, to: 65535 }]).flatMap((p) => span(p.from, p.to)))));
      return set;
    };
    const protosOf = (proto: string): Proto[] => (proto === 'all' ? ['tcp', 'udp'] : proto === 'tcp' || proto === 'udp' ? [proto] : []);
    s.rules.forEach((rule, i) => {
      if (rule.action !== 'accept') return;
      for (const family of famsOf(i)) {
        for (const p of protosOf(rule.proto)) {
          const k = key(family, rule.direction, p);
          open.set(k, normalise([...(open.get(k) ?? []), ...portsOf(rule)]));
        }
      }
    });
    s.rules.forEach((rule, i) => {
      if (rule.action !== 'accept' || (rule.direction !== 'in' && rule.direction !== 'docker')) return;
      if ((!rule.source && !rule.destination) || isUnreachable(s.name, i)) return;
      const fams = [...famsOf(i)];
      if (fams.length !== 1) return;
      const family = fams[0]!;
      const other: Family = family === 4 ? 6 : 4;
      const closed = protosOf(rule.proto).flatMap((p) => {
        const mine = portsOf(rule);
        const there = open.get(key(other, rule.direction, p)) ?? [];
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
