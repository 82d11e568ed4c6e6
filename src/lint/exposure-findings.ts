import type { HostConfig, RuleConfig } from '../validate/schema.js';
import type { Service } from '../validate/validate-config.js';
import type { AddressSpec, PortRange } from '../validate/values.js';
import type { Finding } from './finding.js';
import type { Places } from './places.js';

/** Database and admin ports that should never be open to everyone. */
export const WELL_KNOWN: readonly { port: number; name: string; udp?: boolean }[] = [
  { port: 5432, name: 'PostgreSQL' },
  { port: 3306, name: 'MySQL' },
  { port: 6379, name: 'Redis' },
  { port: 27017, name: 'MongoDB' },
  { port: 9200, name: 'Elasticsearch HTTP' },
  { port: 9300, name: 'Elasticsearch transport' },
  { port: 2379, name: 'etcd client' },
  { port: 2380, name: 'etcd peer' },
  { port: 11211, name: 'memcached', udp: true },
  { port: 2375, name: 'Docker API (plain)' },
  { port: 2376, name: 'Docker API (TLS)' },
  { port: 10250, name: 'kubelet' },
];

/** How a rule is open to everyone, or undefined: no source, or 0.0.0.0/0 or ::/0 among them. */
function worldSource(source: AddressSpec | undefined): string | undefined {
  if (!source) return 'no source:';
  const any = source.addresses.filter((a) => a.any).map((a) => a.text);
  return any.length ? `source: ${any.join(', ')}` : undefined;
}

/** Whether `ports` (none: every port) hold `port`; an indexed loop, as in intervals.ts (it runs 12 times per inbound accept). */
function holds(ports: readonly PortRange[] | undefined, port: number): boolean {
  if (!ports) return true;
  for (let i = 0; i < ports.length; i++) if (ports[i]!.from <= port && port <= ports[i]!.to) return true;
  return false;
}
/** Whether `ports` hold any WELL_KNOWN port (asked of every inbound accept; no closure per rule). */
function holdsWellKnown(ports: readonly PortRange[] | undefined): boolean {
  for (let i = 0; i < WELL_KNOWN.length; i++) if (holds(ports, WELL_KNOWN[i]!.port)) return true;
  return false;
}

const protoHolds = (proto: RuleConfig['proto'], want: 'tcp' | 'udp') => proto === 'all' || proto === want;

/** exposed: an inbound accept from anywhere that takes a well-known database or admin port. */
export function exposedFindings(
  services: readonly Service[],
  places: Places,
  isUnreachable: (service: string, index: number) => boolean,
): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    s.rules.forEach((rule, i) => {
      if ((rule.direction !== 'in' && rule.direction !== 'docker') || rule.action !== 'accept') return;
      if (!holdsWellKnown(rule.dport)) return;
      const world = worldSource(rule.source);
      if (!world || isUnreachable(s.name, i)) return;
      const hits = WELL_KNOWN.flatMap((w) =>
        (['tcp', 'udp'] as const)
          .filter((p) => (p === 'tcp' || w.udp) && protoHolds(rule.proto, p) && holds(rule.dport, w.port))
          .map((p) => `${w.name} (${p} ${w.port})`),
      );
      if (hits.length === 0) return;
      const what = hits.length > 3 ? `${hits.slice(0, 3).join(', ')} and ${hits.length - 3} more` : hits.join(', ');
      out.push({
        kind: 'exposed',
        at: places.inFile(s.file, rule.dport ? ['rules', i, 'dport'] : ['rules', i]),
        message: `exposed: ${what} ${hits.length === 1 ? 'is' : 'are'} accepted from any source (${world}); a database or admin port open to the whole internet is found and tried within hours — list the clients in source:`,
        related: [],
      });
    });
  }
  return out;
}

/** ssh-unlimited: SSH open to the world without a limit on new connections (the ssh: setting, or a service rule). */
export function sshFindings(
  host: HostConfig,
  services: readonly Service[],
  places: Places,
  isUnreachable: (service: string, index: number) => boolean,
): Finding[] {
  const out: Finding[] = [];
  const port = host.ssh ? host.ssh.port.from : 22;
  const why = 'anyone may try passwords and keys as fast as they like; keep a rate_limit, or narrow source: to your own networks';
  if (host.ssh && host.ssh.rate_limit === false) {
    const world = worldSource(host.ssh.source);
    if (world) {
      out.push({
        kind: 'ssh-unlimited',
        at: places.host(['ssh', 'rate_limit']),
        message: `ssh-unlimited: SSH (tcp ${port}) is open to the world (${world}) with rate_limit: false: ${why}`,
        related: [],
      });
    }
  }
  for (const s of services) {
    s.rules.forEach((rule, i) => {
      if (
        rule.direction !== 'in' ||
        rule.action !== 'accept' ||
        rule.rate_limit ||
        !protoHolds(rule.proto, 'tcp') ||
        !holds(rule.dport, port)
      )
        return;
      const world = worldSource(rule.source);
      if (!world || isUnreachable(s.name, i)) return;
      out.push({
        kind: 'ssh-unlimited',
        at: places.inFile(s.file, ['rules', i]),
        message: `ssh-unlimited: accepts SSH (tcp ${port}) from any source (${world}) with no rate_limit: ${why}`,
        related: [],
      });
    });
  }
  return out;
}
