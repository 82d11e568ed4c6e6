import type { HostConfig } from '../validate/schema.js';
import type { Service } from '../validate/validate-config.js';
import { CHAIN, ruleAuditPrefix, serviceInputChain } from './chains.js';
import { inboundChains } from './compile-inbound.js';
import { actionTarget, compileRule, ruleFamilies, type RuleSpec, type SetRegistry } from './compile-rule.js';
import type { Family } from '../validate/values.js';
import type { FastPath } from './notrack-fast-path.js';
import type { FragmentModel, IptRule, Section } from './types.js';

const DIRECTION_CHAIN = {
  out: CHAIN.outputRules,
  forward: CHAIN.forwardRules,
  docker: CHAIN.dockerRules,
  'docker-out': CHAIN.dockerOut,
} as const;

/** The owner match of an out rule (user, group): the local process that sends the packet. */
function ownerMatch(rule: Service['rules'][number]): string[] | undefined {
  if (rule.user === undefined && rule.group === undefined) return undefined;
  return [
    '-m',
    'owner',
    ...(rule.user !== undefined ? ['--uid-owner', rule.user] : []),
    ...(rule.group !== undefined ? ['--gid-owner', rule.group] : []),
  ];
}

/** The bridges a docker-out rule's connections leave through: its interface, or every bridge of docker.bridge. */
function dockerOutBridges(rule: Service['rules'][number], host: HostConfig): string[] {
  return rule.interface ? [rule.interface] : [...host.docker.bridge];
}

/**
 * What an over-the-limit or dropped packet gets: the shared log-and-drop chain when logging
 * is on; in mode: audit, the chain that logs it and accepts it instead (INPUT, OUTPUT) or,
 * on the forward path (`forward`: FORWARD, DOCKER-USER and what they reach), the one that
 * logs it and passes it on: an accept there would skip Docker's own chains (its isolation).
 */
export function dropTarget(host: HostConfig, forward = false): string[] {
  if (host.mode === 'audit') return ['-j', forward ? CHAIN.auditPass : CHAIN.audit];
  return host.logging.dropped ? ['-j', CHAIN.drop] : ['-j', 'DROP'];
}

/** Rules on the forward path (FORWARD, DOCKER-USER): in mode audit, what they would drop is passed on. */
function onForwardPath(rule: Service['rules'][number]): boolean {
  return rule.direction !== 'in' && rule.direction !== 'out';
}

/** A rule's action as a target; in mode: audit a drop or reject is logged and accepted or passed on (dropTarget). */
function ruleTarget(rule: Service['rules'][number], host: HostConfig): string[] {
  if (host.mode === 'audit' && rule.action !== 'accept') return dropTarget(host, onForwardPath(rule));
  return actionTarget(rule.action, rule.proto);
}

function describe(rule: Service['rules'][number]): string {
  const parts: string[] = [rule.audit ? `audit ${rule.action}` : rule.action, rule.direction];
  if (rule.proto !== 'all') parts.push(rule.proto);
  if (rule.dport) parts.push(`dport ${rule.dport.map((p) => (p.from === p.to ? p.from : `${p.from}:${p.to}`)).join(',')}`);
  if (rule.sport) parts.push(`sport ${rule.sport.map((p) => (p.from === p.to ? p.from : `${p.from}:${p.to}`)).join(',')}`);
  if (rule.interface) parts.push(`${rule.direction === 'out' ? 'via' : rule.direction === 'docker-out' ? 'from' : 'on'} ${rule.interface}`);
  if (rule.user !== undefined) parts.push(`user ${rule.user}`);
  if (rule.group !== undefined) parts.push(`group ${rule.group}`);
  const addrs = (s: typeof rule.source) =>
    s
      ? [
          ...(s.addresses.length > 4 ? [`${s.addresses.length} addresses`] : s.addresses.map((a) => a.text)),
          ...s.sets.map((n) => '@' + n),
        ].join(', ')
      : '';
  if (rule.source) parts.push(`from ${addrs(rule.source)}`);
  if (rule.destination) parts.push(`to ${addrs(rule.destination)}`);
  if (rule.rate_limit) parts.push(`at most ${rule.rate_limit.hits} new per ${rule.rate_limit.seconds}s per source`);
  if (rule.notrack) parts.push('without conntrack (notrack)');
  return parts.join(' ');
}

/**
 * A notrack rule: its packets are marked untracked in raw PREROUTING, accepted in the
 * service's chain like any accept rule, and their replies (from the port, to the source)
 * marked untracked in raw OUTPUT and accepted in GFW-OUTPUT-UNTRACKED (a TCP reply never
 * opens a connection: no SYN without ACK), which GFW-OUTPUT jumps to after its metadata
 * block. Validation allows it on in rules with tcp or udp, a dport and no rate limit only,
 * and udp on a port any user may bind only with a source (where the replies may go).
 */
function compileNotrack(spec: RuleSpec, families: Family[], sets: SetRegistry, fast: FastPath | undefined): IptRule[] {
  const notrack = ['-j', 'CT', '--notrack'];
  const reply: RuleSpec = {
    chain: CHAIN.outputUntracked,
    outInterface: spec.inInterface,
    proto: spec.proto,
    sport: spec.dport,
    dport: spec.sport,
    source: spec.destination,
    destination: spec.source,
    extra: spec.proto === 'tcp' ? ['!', '--syn'] : undefined,
    target: ['-j', 'ACCEPT'],
    comment: spec.comment,
  };
  return [
    ...compileRule(
      { ...spec, table: 'raw', chain: CHAIN.rawPrerouting, log: undefined, rateLimit: undefined, target: notrack },
      families,
      sets,
    ),
    // The fast path (notrack-fast-path.ts): the same accept, for untracked packets, where
    // GFW-INPUT meets them after the deny list; the service's chain keeps its own.
    ...(fast?.hoisted
      ? compileRule(
          { ...spec, chain: CHAIN.inputUntracked, extra: ['-m', 'conntrack', '--ctstate', 'UNTRACKED', ...(spec.extra ?? [])] },
          families,
          sets,
        )
      : []),
    ...compileRule(spec, families, sets),
    ...compileRule({ ...reply, table: 'raw', chain: CHAIN.rawOutput, extra: undefined, target: notrack }, families, sets),
    ...compileRule(reply, families, sets),
  ];
}

/** What the fragment says of a notrack rule's fast path. */
function fastPathNote(fast: FastPath | undefined): string {
  if (!fast) return '';
  if (fast.hoisted) return `; fast path: accepted in ${CHAIN.inputUntracked} right after the deny list`;
  return `; no fast path (accepted here, after the base rules and the services before it): ${fast.why}`;
}

function logSpec(log: true | { prefix?: string; limit?: string; level?: number }, service: string, host: HostConfig) {
  const own = log === true ? {} : log;
  return { prefix: own.prefix ?? `${service}: `, limit: own.limit ?? host.logging.limit, level: own.level ?? host.logging.level };
}

/**
 * A service's rules in fragment order. Inbound ones go to the service's own chain,
 * GFW-I-<service>, which GFW-INPUT-RULES jumps to only for the protocols and ports those
 * rules use (the last section): a new connection skips every service it cannot match.
 */
export function compileService(
  service: Service,
  host: HostConfig,
  sets: SetRegistry,
  fastPath?: ReadonlyMap<number, FastPath>,
): FragmentModel {
  const sections: Section[] = service.rules.map((rule, i) => {
    const comment = rule.comment ? `${service.name}: ${rule.comment}` : service.name;
    const spec: RuleSpec = {
      chain: rule.direction === 'in' ? serviceInputChain(service.name) : DIRECTION_CHAIN[rule.direction],
      inInterface: rule.direction !== 'out' ? rule.interface : undefined,
      outInterface: rule.direction === 'out' ? rule.interface : undefined,
      proto: rule.proto,
      dport: rule.dport,
      sport: rule.sport,
      originalDport: rule.direction === 'docker',
      source: rule.source,
      destination: rule.destination,
      extra: ownerMatch(rule),
      target: ruleTarget(rule, host),
      log: rule.log ? logSpec(rule.log, service.name, host) : undefined,
      audit: rule.audit ? { prefix: ruleAuditPrefix(service.name), limit: host.logging.limit, level: host.logging.level } : undefined,
      rateLimit: rule.rate_limit
        ? { ...rule.rate_limit, name: `gfw-${service.name}-${i}`, overTarget: dropTarget(host, onForwardPath(rule)) }
        : undefined,
      comment,
    };
    const families = ruleFamilies(spec, host.ipv6);
    // A docker-out rule is the same rule for each bridge its connections may leave through.
    const specs =
      rule.direction === 'docker-out' ? dockerOutBridges(rule, host).map((bridge) => ({ ...spec, inInterface: bridge })) : [spec];
    return {
      title: `rules[${i}]: ${describe(rule)}${rule.comment ? ` (${rule.comment})` : ''}${rule.notrack ? fastPathNote(fastPath?.get(i)) : ''}`,
      rules: rule.notrack
        ? compileNotrack(spec, families, sets, fastPath?.get(i))
        : specs.flatMap((one) => compileRule(one, families, sets)),
    };
  });
  const inRules = service.rules.flatMap((rule, i) =>
    rule.direction === 'in' ? [{ rule, families: [...new Set(sections[i]!.rules.map((r) => r.family))] }] : [],
  );
  const inbound = inboundChains(service.name, inRules);
  const jumps = inbound.flatMap((c) => c.jumps);
  if (jumps.length) {
    sections.push({
      title: `into ${serviceInputChain(service.name)}: the protocols and ports its rules use (the others never enter it)`,
      rules: jumps,
    });
  }
  return { service: service.name, file: service.file, sha256: service.sha256, description: service.description, sections, inbound };
}
