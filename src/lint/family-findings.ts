import type { Service } from '../validate/validate-config.js';
import type { Family } from '../validate/values.js';
import type { Finding } from './finding.js';
import type { LintFragment } from './paths.js';
import type { Places } from './places.js';

type Proto = 'tcp' | 'udp';
type Rule = Service['rules'][number];
/** Ports as sorted, disjoint, inclusive ranges of plain numbers (this check needs nothing wider). */
type Ports = readonly (readonly [number, number])[];

const TCP_UDP: readonly Proto[] = ['tcp', 'udp'];
const TCP: readonly Proto[] = ['tcp'];
const UDP: readonly Proto[] = ['udp'];
const NO_PROTO: readonly Proto[] = [];
const EVERY_PORT: Ports = [[1, 65535]];
/** The protocols a rule's ports are of (constant lists: this runs for every accept of a judged service). */
const protosOf = (proto: string): readonly Proto[] =>
  proto === 'all' ? TCP_UDP : proto === 'tcp' ? TCP : proto === 'udp' ? UDP : NO_PROTO;

/** Sorted, with overlapping and adjacent ranges merged. */
function merged(ranges: readonly (readonly [number, number])[]): Ports {
  let sorted = ranges;
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]![0] < ranges[i - 1]![0]) {
      sorted = [...ranges].sort((x, y) => x[0] - y[0]);
      break;
    }
  // Indexed, no destructuring: see intervals.ts on iterators.
  const out: [number, number][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]![0];
    const b = sorted[i]![1];
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const portsOf = (rule: Rule): Ports => merged((rule.dport ?? [{ from: 1, to: 65535 }]).map((p) => [p.from, p.to] as const));

/** Whether `there` holds every port of `mine` (both merged: a range of mine lies within one of there's). */
function covers(there: Ports, mine: Ports): boolean {
  for (let i = 0; i < mine.length; i++) {
    let held = false;
    for (let j = 0; j < there.length && !held; j++) held = there[j]![0] <= mine[i]![0] && mine[i]![1] <= there[j]![1];
    if (!held) return false;
  }
  return true;
}

const portsText = (ports: Ports): string => ports.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');

/** What a service accepts, per family, direction and protocol (`4/in/tcp`): the ports. */
function openPorts(rules: readonly Rule[], fragment: LintFragment): Map<string, Ports> {
  const open = new Map<string, Ports>();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.action !== 'accept') continue;
    const ports = portsOf(rule);
    const families = fragment.sections[i]?.families ?? [];
    const protos = protosOf(rule.proto);
    for (let f = 0; f < families.length; f++) {
      for (let p = 0; p < protos.length; p++) {
        const k = `${families[f]}/${rule.direction}/${protos[p]}`;
        const before = open.get(k);
        open.set(k, before ? merged(before.concat(ports)) : ports);
      }
    }
  }
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
  // Indexed loops: see intervals.ts on iterators.
  for (let n = 0; n < services.length; n++) {
    const s = services[n]!;
    const f = byName.get(s.name);
    if (!f) continue;
    // Made when the service has a rule to judge (most have none).
    let open: Map<string, Ports> | undefined;
    for (let i = 0; i < s.rules.length; i++) {
      const rule = s.rules[i]!;
      if (rule.action !== 'accept' || (rule.direction !== 'in' && rule.direction !== 'docker')) continue;
      if (!rule.source && !rule.destination) continue;
      const fams = f.sections[i]?.families ?? [];
      if (fams.length !== 1 || isUnreachable(s.name, i)) continue;
      const family = fams[0]!;
      const other: Family = family === 4 ? 6 : 4;
      open ??= openPorts(s.rules, f);
      const mine = portsOf(rule);
      const closed: string[] = [];
      const protos = protosOf(rule.proto);
      for (let p = 0; p < protos.length; p++) {
        const there = open.get(`${other}/${rule.direction}/${protos[p]}`) ?? [];
        if (!covers(there, mine)) closed.push(`${protos[p]} ${covers(mine, EVERY_PORT) ? 'every port' : portsText(mine)}`);
      }
      if (closed.length === 0) continue;
      const which = rule.source ? 'source' : 'destination';
      out.push({
        kind: 'one-family',
        at: places.inFile(s.file, ['rules', i, which]),
        message: `one-family: opens ${closed.join(' and ')} over IPv${family} only (its ${which} addresses are all IPv${family}) while ipv6 is on: IPv${other} stays closed there for this service; add its IPv${other} addresses if clients come over IPv${other} too`,
        related: [],
      });
    }
  }
  return out;
}
