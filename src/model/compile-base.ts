import type { HostConfig } from '../validate/schema.js';
import type { AddressSpec, Family } from '../validate/values.js';
import { AUDIT_PREFIX, CHAIN, METADATA } from './chains.js';
import { compileRule, ruleFamilies, type RuleSpec, type SetRegistry } from './compile-rule.js';
import { dropTarget } from './compile-service.js';
import type { BaseRuleset, ChainRef, IptRule, Jump, Policy, Section } from './types.js';

const ACCEPT = ['-j', 'ACCEPT'];

/** ICMPv6 that RFC 4890 says must not be dropped; ND is never admitted by conntrack (it is INVALID). */
const ICMPV6_IN: { type: string; extra?: string[]; note: string }[] = [
  { type: 'destination-unreachable', note: 'errors' },
  { type: 'packet-too-big', note: 'path MTU discovery' },
  { type: 'time-exceeded', note: 'errors' },
  { type: 'parameter-problem', note: 'errors' },
  { type: 'router-advertisement', extra: ['-m', 'hl', '--hl-eq', '255'], note: 'SLAAC' },
  { type: 'neighbour-solicitation', extra: ['-m', 'hl', '--hl-eq', '255'], note: 'neighbour discovery' },
  { type: 'neighbour-advertisement', extra: ['-m', 'hl', '--hl-eq', '255'], note: 'neighbour discovery' },
  { type: '141', extra: ['-m', 'hl', '--hl-eq', '255'], note: 'inverse ND' },
  { type: '142', extra: ['-m', 'hl', '--hl-eq', '255'], note: 'inverse ND' },
  { type: '130', extra: ['-s', 'fe80::/10'], note: 'MLD query' },
  { type: '131', extra: ['-s', 'fe80::/10'], note: 'MLD report' },
  { type: '132', extra: ['-s', 'fe80::/10'], note: 'MLD done' },
  { type: '143', extra: ['-s', 'fe80::/10'], note: 'MLDv2 report' },
];
const ICMPV6_OUT: { type: string; extra?: string[] }[] = [
  { type: 'destination-unreachable' },
  { type: 'packet-too-big' },
  { type: 'time-exceeded' },
  { type: 'parameter-problem' },
  { type: 'router-solicitation', extra: ['-m', 'hl', '--hl-eq', '255'] },
  { type: 'neighbour-solicitation', extra: ['-m', 'hl', '--hl-eq', '255'] },
  { type: 'neighbour-advertisement', extra: ['-m', 'hl', '--hl-eq', '255'] },
  { type: '130' },
  { type: '131' },
  { type: '132' },
  { type: '143' },
];

class Builder {
  readonly sections: Section[] = [];
  constructor(
    readonly host: HostConfig,
    readonly sets: SetRegistry,
  ) {}

  /** A literal rule in the given families. */
  raw(title: string, chain: string, fams: Family[], args: string[], comment: string): void {
    const j = args.indexOf('-j');
    const tagged = [...args.slice(0, j), '-m', 'comment', '--comment', `gen-fw: ${comment}`, ...args.slice(j)];
    const rules: IptRule[] = fams.map((family) => ({ family, table: 'filter', chain, args: tagged }));
    this.add(title, rules);
  }

  /** A rule through the same compiler as services (address families, sets, rate limits). */
  rule(title: string, spec: Omit<RuleSpec, 'comment'> & { comment: string }, onlyFamilies?: Family[]): void {
    let fams = ruleFamilies(spec, this.host.ipv6);
    if (onlyFamilies) fams = fams.filter((f) => onlyFamilies.includes(f));
    this.add(title, compileRule({ ...spec, comment: `gen-fw: ${spec.comment}` }, fams, this.sets));
  }

  /** How many rules so far: where a stretch of rules begins or ends. */
  count(): number {
    return this.sections.reduce((n, s) => n + s.rules.length, 0);
  }

  /** The rules from `from` (a count()) to now. */
  since(from: number): IptRule[] {
    return this.sections.flatMap((s) => s.rules).slice(from);
  }

  add(title: string, rules: IptRule[]): void {
    if (rules.length === 0) return;
    const last = this.sections[this.sections.length - 1];
    if (last && last.title === title) last.rules.push(...rules);
    else this.sections.push({ title, rules });
  }
}

function servers(value: boolean | AddressSpec): AddressSpec | undefined {
  return typeof value === 'object' ? value : undefined;
}

export interface BaseOptions {
  /** Some service has a notrack rule: the raw table's chains (where its packets are marked untracked) and the way out for their replies are declared. */
  notrack?: boolean;
  /** Some notrack rule is hoisted (notrack-fast-path.ts): GFW-INPUT-UNTRACKED and its jump after the established accept. */
  untrackedInput?: boolean;
  /** The families whose untracked replies leave right after the established accept, before the invalid and metadata rules. */
  earlyOutput?: readonly Family[];
}

/** The base rules the fast path would overtake: GFW-INPUT's after its place, GFW-OUTPUT's between the early and the late place of the replies' jump. */
export interface FastPathStretches {
  input: IptRule[];
  output: IptRule[];
}

export function compileBase(host: HostConfig, sets: SetRegistry, opts: BaseOptions = {}): BaseRuleset {
  return compileBaseWithStretches(host, sets, opts).base;
}

/** The base, and the rules a notrack fast path would overtake (read by planFastPath). */
export function compileBaseWithStretches(
  host: HostConfig,
  sets: SetRegistry,
  opts: BaseOptions = {},
): { base: BaseRuleset; stretches: FastPathStretches } {
  const families: Family[] = host.ipv6 ? [4, 6] : [4];
  // With ipv6: false, ip6tables still gets the policies and loopback: IPv6 off means IPv6 closed.
  const policyFamilies: Family[] = [4, 6];
  const policies: Policy[] = [];
  // mode: audit drops nothing, so no policy drops either (docs/decisions.md): GFW-INPUT and
  // GFW-OUTPUT end in the audit (log, accept); FORWARD, which Docker and Kubernetes append to
  // after us, has no final rule to end in, and its audits (GFW-AUDIT-PASS) log and pass on.
  const audit = host.mode === 'audit';
  const policy = (p: 'accept' | 'drop'): Policy['policy'] => (p === 'drop' && !audit ? 'DROP' : 'ACCEPT');
  for (const family of policyFamilies) {
    policies.push({ family, chain: 'INPUT', policy: policy(host.policy.input) });
    policies.push({ family, chain: 'FORWARD', policy: policy(host.policy.forward) });
    policies.push({ family, chain: 'OUTPUT', policy: policy(host.policy.output) });
  }

  const chains: ChainRef[] = [];
  const jumps: Jump[] = [];
  for (const family of policyFamilies) {
    const docker = host.docker.enabled && (family === 4 || host.ipv6);
    const names: string[] = [CHAIN.input, CHAIN.inputRules, CHAIN.output, CHAIN.outputRules, CHAIN.forward, CHAIN.forwardRules];
    if (audit) names.push(CHAIN.audit, CHAIN.auditPass);
    else if (host.logging.dropped) names.push(CHAIN.drop);
    if (host.final === 'reject' && !audit) names.push(CHAIN.reject);
    if (docker) names.push(CHAIN.dockerUser, CHAIN.dockerRules, CHAIN.dockerOut);
    for (const name of names) chains.push({ family, table: 'filter', name });
    jumps.push({ family, table: 'filter', from: 'INPUT', to: CHAIN.input });
    jumps.push({ family, table: 'filter', from: 'OUTPUT', to: CHAIN.output });
    // With Docker, FORWARD's one jump is to DOCKER-USER, which dockerd itself puts first at
    // every start, above its per-bridge accepts; GFW-FORWARD is entered from there. A jump
    // of ours below Docker's accepts would miss container traffic after every Docker start.
    jumps.push({ family, table: 'filter', from: 'FORWARD', to: docker ? CHAIN.dockerUser : CHAIN.forward });
  }
  if (opts.notrack) {
    for (const family of families) {
      chains.push(
        { family, table: 'raw', name: CHAIN.rawPrerouting },
        { family, table: 'raw', name: CHAIN.rawOutput },
        { family, table: 'filter', name: CHAIN.outputUntracked },
      );
      if (opts.untrackedInput) chains.push({ family, table: 'filter', name: CHAIN.inputUntracked });
      jumps.push(
        { family, table: 'raw', from: 'PREROUTING', to: CHAIN.rawPrerouting },
        { family, table: 'raw', from: 'OUTPUT', to: CHAIN.rawOutput },
      );
    }
  }

  const b = new Builder(host, sets);
  /** A LOG with the host's limit and level: what the drop, reject and audit chains write first. */
  const logAt = (prefix: string): string[] => [
    '-m',
    'limit',
    '--limit',
    host.logging.limit,
    '-j',
    'LOG',
    '--log-prefix',
    prefix,
    '--log-level',
    String(host.logging.level),
  ];
  const invalidTarget = audit ? ['-j', CHAIN.audit] : ['-j', 'DROP'];
  const lo: Family[] = [4, 6];
  const all: Family[] = families;
  const v6: Family[] = host.ipv6 ? [6] : [];

  // --- the shared drop and reject chains; in mode: audit, the one that logs and accepts instead
  if (audit) {
    const log = logAt(AUDIT_PREFIX);
    const title = `${CHAIN.audit}: mode audit: log (at most ${host.logging.limit}) what enforce would drop or reject, then accept`;
    b.add(
      title,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.audit, args: log })),
    );
    b.add(
      title,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.audit, args: ACCEPT })),
    );
    // The forward path (FORWARD, DOCKER-USER) must not accept: that would skip Docker's and
    // Kubernetes' chains after ours (their isolation). It logs and returns to the next rule.
    const pass = `${CHAIN.auditPass}: mode audit, forward path: log (at most ${host.logging.limit}) what enforce would drop or reject, then go on (Docker's chains still decide)`;
    b.add(
      pass,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.auditPass, args: log })),
    );
    b.add(
      pass,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.auditPass, args: ['-j', 'RETURN'] })),
    );
  } else if (host.logging.dropped) {
    const log = logAt(host.logging.prefix);
    b.add(
      `${CHAIN.drop}: log (at most ${host.logging.limit}), then drop`,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.drop, args: log })),
    );
    b.add(
      `${CHAIN.drop}: log (at most ${host.logging.limit}), then drop`,
      lo.map((family) => ({ family, table: 'filter' as const, chain: CHAIN.drop, args: ['-j', 'DROP'] })),
    );
  }
  if (host.final === 'reject' && !audit) {
    const title = `${CHAIN.reject}: ${host.logging.dropped ? 'log, then ' : ''}refuse (TCP reset, ICMP port unreachable)`;
    for (const family of lo) {
      const rules: IptRule[] = [];
      if (host.logging.dropped) {
        rules.push({
          family,
          table: 'filter',
          chain: CHAIN.reject,
          args: logAt(host.logging.prefix),
        });
      }
      rules.push({ family, table: 'filter', chain: CHAIN.reject, args: ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'] });
      rules.push({
        family,
        table: 'filter',
        chain: CHAIN.reject,
        args: ['-j', 'REJECT', '--reject-with', family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'],
      });
      b.add(title, rules);
    }
  }

  // --- INPUT
  if (host.loopback) b.raw('INPUT: loopback', CHAIN.input, lo, ['-i', 'lo', ...ACCEPT], 'loopback');
  if (host.deny.source) {
    b.rule('INPUT: deny list, before anything is allowed (SSH included)', {
      chain: CHAIN.input,
      proto: 'all',
      source: host.deny.source,
      target: dropTarget(host),
      comment: 'deny',
    });
  }
  // Replies and established connections first: most packets stop here. RELATED,ESTABLISHED
  // and INVALID never meet, and the ICMPv6 rules below only accept, so no verdict moves.
  if (host.conntrack.established)
    b.raw(
      'INPUT: replies and established connections (conntrack)',
      CHAIN.input,
      all,
      ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...ACCEPT],
      'established',
    );
  // The notrack fast path: after the deny list (it still wins), beside the established
  // accept (the two never meet); only for rules nothing below could have met otherwise.
  if (opts.notrack && opts.untrackedInput) {
    b.raw(
      `INPUT: packets of the notrack services, which conntrack never saw (${CHAIN.inputUntracked}: their rules, where no rule before them could meet their packets otherwise)`,
      CHAIN.input,
      all,
      ['-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', CHAIN.inputUntracked],
      'untracked',
    );
  }
  const inputFrom = b.count();
  if (host.ipv6) {
    for (const t of ICMPV6_IN) {
      b.raw(
        'INPUT: ICMPv6 that IPv6 cannot live without (RFC 4890); conntrack never admits ND',
        CHAIN.input,
        v6,
        ['-p', 'ipv6-icmp', '--icmpv6-type', t.type, ...(t.extra ?? []), ...ACCEPT],
        `icmpv6 ${t.note}`,
      );
    }
  }
  if (host.conntrack.invalid)
    b.raw(
      'INPUT: packets conntrack finds invalid',
      CHAIN.input,
      all,
      ['-m', 'conntrack', '--ctstate', 'INVALID', ...invalidTarget],
      'invalid',
    );
  if (host.ssh) {
    const ssh = host.ssh;
    b.rule(
      `INPUT: SSH on ${ssh.port.from}${ssh.rate_limit ? `, at most ${ssh.rate_limit.hits} new connections per source per ${ssh.rate_limit.seconds}s` : ''}`,
      {
        chain: CHAIN.input,
        inInterface: ssh.interface,
        proto: 'tcp',
        dport: [ssh.port],
        source: ssh.source,
        target: ACCEPT,
        rateLimit: ssh.rate_limit ? { ...ssh.rate_limit, name: 'gfw-ssh', overTarget: dropTarget(host) } : undefined,
        comment: 'ssh',
      },
    );
  }
  if (host.icmp.echo_request === 'accept') {
    b.raw('INPUT: ping', CHAIN.input, [4], ['-p', 'icmp', '--icmp-type', 'echo-request', ...ACCEPT], 'ping');
    b.raw('INPUT: ping', CHAIN.input, v6, ['-p', 'ipv6-icmp', '--icmpv6-type', 'echo-request', ...ACCEPT], 'ping');
  }
  if (host.dhcp) {
    b.raw(
      'INPUT: DHCP client (replies may be broadcast, which conntrack does not match)',
      CHAIN.input,
      [4],
      ['-p', 'udp', '--sport', '67', '--dport', '68', ...ACCEPT],
      'dhcp',
    );
    b.raw(
      'INPUT: DHCP client (replies may be broadcast, which conntrack does not match)',
      CHAIN.input,
      v6,
      ['-s', 'fe80::/10', '-p', 'udp', '--sport', '547', '--dport', '546', ...ACCEPT],
      'dhcpv6',
    );
  }
  const inputBetween = b.since(inputFrom).filter((r) => r.chain === CHAIN.input);
  b.raw('INPUT: the services (iptables_conf.d)', CHAIN.input, lo, ['-j', CHAIN.inputRules], 'services');
  if (host.policy.input === 'drop') {
    const final = host.final === 'reject' && !audit ? ['-j', CHAIN.reject] : dropTarget(host);
    const what = audit
      ? `logged and accepted (mode audit: enforce would ${host.final} it)`
      : `${host.final === 'reject' ? 'refused' : 'dropped'}${host.logging.dropped ? ' and logged' : ''}`;
    b.raw(`INPUT: everything else is ${what}`, CHAIN.input, lo, final, 'final');
  }

  // --- OUTPUT
  if (host.loopback) b.raw('OUTPUT: loopback', CHAIN.output, lo, ['-o', 'lo', ...ACCEPT], 'loopback');
  if (host.conntrack.established)
    b.raw(
      'OUTPUT: replies and established connections (conntrack)',
      CHAIN.output,
      all,
      ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...ACCEPT],
      'established',
    );
  const early = opts.earlyOutput ?? [];
  const untrackedReplies = (fams: Family[], where: string) =>
    b.raw(
      `OUTPUT: replies of the notrack services, which conntrack never saw (${CHAIN.outputUntracked}: by source port)${where}`,
      CHAIN.output,
      fams,
      ['-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', CHAIN.outputUntracked],
      'untracked replies',
    );
  // Early where no rule before the late place can meet the replies (their destinations
  // exclude the metadata address): the invalid and metadata rules are skipped.
  if (opts.notrack && all.some((f) => early.includes(f))) {
    untrackedReplies(
      all.filter((f) => early.includes(f)),
      ', before the invalid and metadata rules: no reply goes to the metadata address',
    );
  }
  const outputFrom = b.count();
  if (host.ipv6) {
    for (const t of ICMPV6_OUT) {
      b.raw(
        'OUTPUT: ICMPv6 that IPv6 cannot live without (RFC 4890)',
        CHAIN.output,
        v6,
        ['-p', 'ipv6-icmp', '--icmpv6-type', t.type, ...(t.extra ?? []), ...ACCEPT],
        'icmpv6',
      );
    }
  }
  if (host.conntrack.invalid)
    b.raw(
      'OUTPUT: packets conntrack finds invalid',
      CHAIN.output,
      all,
      ['-m', 'conntrack', '--ctstate', 'INVALID', ...invalidTarget],
      'invalid',
    );
  for (const family of all) {
    const addr = METADATA[family];
    const title = `OUTPUT: cloud metadata service (${host.metadata})`;
    if (host.metadata === 'root-only') {
      b.raw(title, CHAIN.output, [family], ['-d', addr, '-m', 'owner', '--uid-owner', '0', ...ACCEPT], 'metadata for root');
      b.raw(title, CHAIN.output, [family], ['-d', addr, ...dropTarget(host)], 'metadata for others');
    } else if (host.metadata === 'allow') {
      b.raw(title, CHAIN.output, [family], ['-d', addr, ...ACCEPT], 'metadata');
    } else {
      b.raw(title, CHAIN.output, [family], ['-d', addr, ...dropTarget(host)], 'metadata blocked');
    }
  }
  // After the metadata block: a reply accepted by source port alone must not carry a
  // local user past it (metadata: root-only). Untracked packets are never INVALID, so
  // moving the jump below that drop changes nothing else.
  const outputBetween = b.since(outputFrom).filter((r) => r.chain === CHAIN.output);
  if (opts.notrack && all.some((f) => !early.includes(f)))
    untrackedReplies(
      all.filter((f) => !early.includes(f)),
      '',
    );
  if (host.dns) {
    for (const proto of ['udp', 'tcp'] as const) {
      b.rule('OUTPUT: DNS', {
        chain: CHAIN.output,
        proto,
        dport: [{ from: 53, to: 53 }],
        destination: servers(host.dns),
        target: ACCEPT,
        comment: 'dns',
      });
    }
  }
  if (host.ntp) {
    b.rule('OUTPUT: NTP', {
      chain: CHAIN.output,
      proto: 'udp',
      dport: [{ from: 123, to: 123 }],
      destination: servers(host.ntp),
      target: ACCEPT,
      comment: 'ntp',
    });
  }
  if (host.dhcp) {
    b.raw('OUTPUT: DHCP client', CHAIN.output, [4], ['-p', 'udp', '--sport', '68', '--dport', '67', ...ACCEPT], 'dhcp');
    b.raw('OUTPUT: DHCP client', CHAIN.output, v6, ['-p', 'udp', '--sport', '546', '--dport', '547', ...ACCEPT], 'dhcpv6');
  }
  b.raw('OUTPUT: the services (iptables_conf.d)', CHAIN.output, lo, ['-j', CHAIN.outputRules], 'services');
  if (host.policy.output === 'drop') {
    const what = audit ? 'logged and accepted (mode audit: enforce would drop it)' : `dropped${host.logging.dropped ? ' and logged' : ''}`;
    b.raw(`OUTPUT: everything else is ${what}`, CHAIN.output, lo, dropTarget(host), 'final');
  }

  // --- FORWARD: no final rule here: Docker and Kubernetes append theirs after ours; the policy decides.
  if (host.conntrack.established)
    b.raw('FORWARD: conntrack', CHAIN.forward, all, ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...ACCEPT], 'established');
  b.raw('FORWARD: the services (iptables_conf.d)', CHAIN.forward, lo, ['-j', CHAIN.forwardRules], 'services');

  if (host.docker.enabled) compileDockerUser(b, host, all);

  return { base: { policies, chains, jumps, sections: b.sections }, stretches: { input: inputBetween, output: outputBetween } };
}

/**
 * DOCKER-USER, which dockerd jumps to first from FORWARD (it moves that jump to the top at
 * every start) and never flushes: the one place in FORWARD that comes before Docker's
 * rules whatever order Docker and gen-fw start in. So all of gen-fw's forward filtering
 * starts here: replies first; then what containers may not reach (the metadata service,
 * then the docker-out rules, GFW-DOCKER-OUT); containers' traffic then meets the forward
 * rules (GFW-FORWARD) and goes on to Docker's rules. Docker rewrites a published port's
 * destination before the filter table sees it, so INPUT rules never apply to it: new
 * connections from outside to a published port (conntrack state DNAT) are dropped unless
 * a `direction: docker` rule (GFW-DOCKER-RULES) accepts them. Other routed traffic meets
 * the forward rules, and whatever they leave returns to Docker's chains.
 */
function compileDockerUser(b: Builder, host: HostConfig, families: Family[]): void {
  const bridges = host.docker.bridge;
  const dnat = ['-m', 'conntrack', '--ctstate', 'DNAT', '--ctdir', 'ORIGINAL'];
  if (host.conntrack.established) {
    b.raw(
      'DOCKER-USER: replies and established connections',
      CHAIN.dockerUser,
      families,
      ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...ACCEPT],
      'docker established',
    );
  }
  if (host.docker.block_metadata) {
    for (const family of families) {
      for (const bridge of bridges) {
        b.raw(
          'DOCKER-USER: containers may not reach the cloud metadata service',
          CHAIN.dockerUser,
          [family],
          ['-i', bridge, '-d', METADATA[family], ...dropTarget(host, true)],
          'docker metadata',
        );
      }
    }
  }
  b.raw(
    'DOCKER-USER: what containers start: the docker-out rules (iptables_conf.d)',
    CHAIN.dockerUser,
    families,
    ['-j', CHAIN.dockerOut],
    'docker out',
  );
  for (const bridge of bridges) {
    b.raw(
      "DOCKER-USER: containers' traffic: the forward rules, then Docker decides",
      CHAIN.dockerUser,
      families,
      ['-i', bridge, '-j', CHAIN.forward],
      'docker containers forward',
    );
  }
  for (const bridge of bridges) {
    b.raw(
      "DOCKER-USER: containers' traffic: the forward rules, then Docker decides",
      CHAIN.dockerUser,
      families,
      ['-i', bridge, '-j', 'RETURN'],
      'docker containers',
    );
  }
  b.raw(
    'DOCKER-USER: new connections from outside to published ports: the docker rules (iptables_conf.d)',
    CHAIN.dockerUser,
    families,
    [...dnat, '-j', CHAIN.dockerRules],
    'docker published',
  );
  b.raw(
    'DOCKER-USER: ...and the rest of them are dropped',
    CHAIN.dockerUser,
    families,
    [...dnat, ...dropTarget(host, true)],
    'docker published, not allowed',
  );
  b.raw('DOCKER-USER: other routed traffic: the forward rules', CHAIN.dockerUser, families, ['-j', CHAIN.forward], 'docker forward');
  b.raw('DOCKER-USER: everything else goes on to Docker', CHAIN.dockerUser, families, ['-j', 'RETURN'], 'docker return');
}
