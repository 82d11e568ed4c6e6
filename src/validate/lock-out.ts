import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import { NOT_FROM_OUTSIDE, covered, everything, rangeOf, sortedRanges, type Range } from './address-ranges.js';
import type { HostConfig } from './schema.js';
import type { Service } from './validate-config.js';
import type { Address, AddressSpec, Family } from './values.js';
import { problemAt } from './problems.js';

/**
 * The lock-out guard: with an inbound drop policy, some way in over SSH must remain that a
 * packet from outside can take, in at least one address family that is on. A way in is
 * `ssh:` or an inbound rule that accepts tcp 22; it is closed to a family when
 *  - it matches only `lo` (nothing from outside arrives there),
 *  - none of its sources of that family is a routable range (loopback and link-local
 *    sources do not count; an @set counts as routable: its members are not known here),
 *  - or the deny list, which comes before it, covers every routable source it has
 *    (with an @set in the deny list, only its members read from the set file count).
 */
export interface PathReason {
  /** The key that closes this way in, e.g. ["deny", "source"]. */
  key: string[];
  why: string;
}

interface WayIn {
  source?: AddressSpec;
  interface?: string;
}

function familiesOn(host: HostConfig): Family[] {
  return host.ipv6 ? [4, 6] : [4];
}

/** Why this way in is closed to `family`, or undefined when a packet from outside gets through. */
function closedBecause(way: WayIn, family: Family, deny: readonly Range[], viaSsh: boolean): PathReason | undefined {
  // A service's rule is not in gen-fw.yaml: its reasons are told at ssh (which is false then).
  const at = (key: string) => (viaSsh ? ['ssh', key] : ['ssh']);
  if (way.interface === 'lo') return { key: at('interface'), why: 'it matches only lo, where nothing from outside arrives' };
  const sources: Range[] = [];
  let unknown = false;
  if (!way.source) sources.push(everything(family));
  else {
    for (const a of way.source.addresses) if (a.family === family) sources.push(rangeOf(a));
    unknown = way.source.sets.length > 0;
  }
  const routable = sources.filter((r) => !covered(r, NOT_FROM_OUTSIDE));
  if (!unknown && routable.length === 0) {
    return {
      key: at('source'),
      why: sources.length
        ? 'its sources are loopback or link-local only, which no packet from outside comes from'
        : `it has no IPv${family} source`,
    };
  }
  if (!unknown && routable.every((r) => covered(r, deny)))
    return { key: ['deny', 'source'], why: 'the deny list, which comes first, covers every source it accepts' };
  return undefined;
}

export function checkLockOut(
  host: HostConfig,
  services: readonly Service[],
  file: ParsedFile | undefined,
  denySetMembers: readonly Address[],
  problems: Problem[],
): void {
  if (host.policy.input !== 'drop' || host.allow_no_ssh) return;
  const where = (key: PropertyKey[], message: string): Problem =>
    file ? problemAt(file, key, message) : { file: '(built-in defaults)', key: key.join('.'), message };
  const deny = sortedRanges([...(host.deny.source?.addresses ?? []), ...denySetMembers].map(rangeOf));
  const ways: { way: WayIn; ssh: boolean; what: string }[] = [];
  if (host.ssh) ways.push({ way: host.ssh, ssh: true, what: 'ssh' });
  for (const s of services) s.rules.forEach((r, i) => acceptsSsh(r) && ways.push({ way: r, ssh: false, what: `${s.file} rules[${i}]` }));
  if (ways.length === 0) {
    if (host.ssh === false) {
      problems.push(
        where(
          ['ssh'],
          'the inbound policy is drop and nothing lets SSH in: this image would lock you out (configure ssh:, open tcp 22 in a service, or set allow_no_ssh: true if that is what you want)',
        ),
      );
    }
    return;
  }
  const reasons: (PathReason & { what: string })[] = [];
  for (const family of familiesOn(host)) {
    for (const { way, ssh, what } of ways) {
      const reason = closedBecause(way, family, deny, ssh);
      if (!reason) return;
      if (!reasons.some((r) => r.what === what && r.why === reason.why)) reasons.push({ ...reason, what });
    }
  }
  // Located at the first reason's key (ssh.*, or deny.source), where the fix is; every way in is told.
  const first = reasons[0]!;
  const fams = familiesOn(host)
    .map((f) => `IPv${f}`)
    .join(' or ');
  const told = reasons.map((r) => `${r.what}: ${r.why}`).join('; ');
  problems.push(
    where(
      first.key,
      `no SSH connection from outside can get in over ${fams} (${told}): with the inbound policy drop this image would lock you out (let SSH in from a routable source, or set allow_no_ssh: true if that is what you want)`,
    ),
  );
}

/** Does an inbound rule accept new TCP connections on the SSH port? */
function acceptsSsh(r: Service['rules'][number]): boolean {
  return (
    r.direction === 'in' &&
    r.action === 'accept' &&
    (r.proto === 'tcp' || r.proto === 'all') &&
    (!r.dport || r.dport.some((p) => p.from <= 22 && 22 <= p.to))
  );
}
