import type { RuleConfig } from '../validate/schema.js';
import type { Service } from '../validate/validate-config.js';
import type { AddressSpec, Family } from '../validate/values.js';
import type { Finding } from './finding.js';
import { intersect, isEmpty, normalise, span, type IntervalSet, type Span } from './intervals.js';
import { placeText, type Places } from './places.js';
import { addressValue } from './universe.js';

type Proto = 'tcp' | 'udp';

/** A rule's source addresses per family; undefined: any (no source, 0.0.0.0/0, or a set whose members lint does not read here). */
function sourceSpans(source: AddressSpec | undefined, family: Family): IntervalSet | undefined {
  if (!source || source.sets.length) return undefined;
  const mine = source.addresses.filter((a) => a.family === family);
  if (mine.some((a) => a.any)) return undefined;
  const width = family === 4 ? 32n : 128n;
  const spans: Span[] = [];
  for (const a of mine) {
    const [addr, bits] = a.text.split('/');
    const host = (1n << (width - (bits === undefined ? width : BigInt(bits)))) - 1n;
    const base = addressValue(family, addr!) & ~host;
    spans.push(...span(base, base + host));
  }
  return normalise(spans);
}

/** Whether some packet from the same source could meet both rules (addresses of either family). */
function sourcesMeet(a: AddressSpec | undefined, b: AddressSpec | undefined): boolean {
  return ([4, 6] as Family[]).some((family) => {
    const x = sourceSpans(a, family);
    const y = sourceSpans(b, family);
    const has = (s: AddressSpec | undefined) => !s || s.sets.length > 0 || s.addresses.some((ad) => ad.family === family);
    if (!has(a) || !has(b)) return false;
    return !x || !y || !isEmpty(intersect(x, y));
  });
}

const protosOf = (proto: RuleConfig['proto']): Proto[] =>
  proto === 'all' ? ['tcp', 'udp'] : proto === 'tcp' || proto === 'udp' ? [proto] : [];

function portSet(rule: RuleConfig): IntervalSet {
  return normalise((rule.dport ?? [{ from: 1, to: 65535 }]).flatMap((p) => span(p.from, p.to)));
}

const portsText = (set: IntervalSet) => set.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');

/**
 * notrack-overlap: a notrack rule's port is also opened by a tracked inbound accept (in any
 * service) for some of the same sources. Those packets skip conntrack whichever rule
 * accepts them: the tracked rule's rate limit never counts them, and its connections are
 * not in the conntrack table.
 */
export function notrackFindings(services: readonly Service[], places: Places): Finding[] {
  const out: Finding[] = [];
  // Listed when the first notrack rule is met (most configs have none).
  let trackedList: { s: Service; rule: Service['rules'][number]; index: number }[] | undefined;
  const trackedRules = () =>
    (trackedList ??= services.flatMap((s) =>
      s.rules.flatMap((rule, index) => (rule.direction === 'in' && rule.action === 'accept' && !rule.notrack ? [{ s, rule, index }] : [])),
    ));
  for (const s of services) {
    s.rules.forEach((rule, i) => {
      if (!rule.notrack || rule.direction !== 'in') return;
      const tracked = trackedRules();
      const mine = portSet(rule);
      const proto = rule.proto as Proto;
      const others = tracked.filter(
        (t) =>
          protosOf(t.rule.proto).includes(proto) && !isEmpty(intersect(portSet(t.rule), mine)) && sourcesMeet(rule.source, t.rule.source),
      );
      if (others.length === 0) return;
      const related = others.map((t) => places.inFile(t.s.file, ['rules', t.index]));
      const shared = normalise(others.flatMap((t) => intersect(portSet(t.rule), mine)));
      out.push({
        kind: 'notrack-overlap',
        at: places.inFile(s.file, ['rules', i, 'notrack']),
        message:
          `notrack-overlap: ${proto} ${portsText(shared)} is also opened by ${related.map(placeText).join(', ')}, which ${others.length === 1 ? 'is' : 'are'} tracked: ` +
          `packets from this rule's sources skip conntrack whichever rule accepts them (a rate_limit there never counts them, and their connections are not in the conntrack table); ` +
          'give the rules disjoint ports or sources, or make them all notrack',
        related,
      });
    });
  }
  return out;
}
