import {
  ACTIONS,
  DIRECTIONS,
  ECHO_REQUEST_ACTIONS,
  FINAL_ACTIONS,
  METADATA_MODES,
  MODES,
  POLICIES,
  PROTOS,
  SET_NAME_RE,
  ValueError,
  parseAbsolutePath,
  parseAddressSpec,
  parseComment,
  parseDescription,
  parseInterface,
  parseLimit,
  parseLogPrefix,
  parsePort,
  parsePortList,
  parseRelativeFile,
  parseSchedule,
} from './values.js';
import { DEFAULT_IGNORE_CHAINS, parseChainGlob } from './globs.js';
import { DEFAULT_DOCKER_BRIDGES, parseBridgeList, parseOwner } from './docker.js';
import { CONNTRACK_LIMITS, type ConntrackLimitKey } from './conntrack-limits.js';
import { bool, def, either, int, list, mapping, named, no, opt, parsed, req, word, type Node, type Output } from './spec.js';
import { VALUE_SCHEMAS as V } from './value-schemas.js';

/*
 * The one definition of gen-fw.yaml and a service file: every key, what reads its value,
 * and its default, written as a person would write it. spec.ts interprets it: validation
 * (validate-config.ts), the JSON Schemas (json-schema.ts) and init's gen-fw.yaml
 * (default-host.ts) all come from here. What a key means for people is in key-docs.ts.
 */

const port = parsed(parsePort, V.port!);
const portList = parsed(parsePortList, V.dport!);
const addressSpec = parsed(parseAddressSpec, V.source!);
const iface = parsed(parseInterface, V.interface!);
const limit = parsed(parseLimit, V.limit!);
const absPath = parsed(parseAbsolutePath, V.install_dir!);
const logPrefix = parsed(parseLogPrefix, V.prefix!);
const owner = parsed(parseOwner, V.user!);
const level = int(0, 7);

// xt_recent remembers at most 20 packets per address by default, and the check counts the current one.
const rateLimit = mapping({ hits: req(int(1, 19)), seconds: req(int(1, 86400)) });

/** Boolean, or a list of server addresses (dns, ntp). */
const serversOrBool = either(bool(), parsed(parseAddressSpec, V.dns!));

export const ruleSchema = mapping({
  direction: req(word(DIRECTIONS)),
  proto: def(word(PROTOS), 'all'),
  dport: opt(portList),
  sport: opt(portList),
  interface: opt(iface),
  source: opt(addressSpec),
  destination: opt(addressSpec),
  action: def(word(ACTIONS), 'accept'),
  log: def(either(bool(), mapping({ prefix: opt(logPrefix), limit: opt(limit), level: opt(level) })), false),
  rate_limit: opt(rateLimit),
  // Docker's keys and the owner match (docker.ts).
  user: opt(owner),
  group: opt(owner),
  // audit: drop/reject rules only (audit.ts): log what it would drop, pass it on.
  audit: def(bool(), false),
  // notrack: in rules with a port only (notrack.ts checks the rest).
  notrack: opt(bool()),
  comment: opt(parsed(parseComment, V.comment!)),
});

export const serviceSchema = mapping({
  description: opt(parsed(parseDescription, V.description!)),
  rules: def(list(ruleSchema), []),
});

const policyValue = word(POLICIES, 'must be "accept" or "drop" (the kernel has no reject policy; see "final: reject")');

const conntrackLimits = mapping(
  Object.fromEntries(CONNTRACK_LIMITS.map((l) => [l.key, opt(int(l.min, l.max))])) as Record<ConntrackLimitKey, { node: Node<number> }>,
);

const setName = (name: string): void => {
  if (!SET_NAME_RE.test(name)) throw new ValueError('set names are letters, digits, "_" and "-", at most 24');
};

export const hostSchema = mapping({
  install_dir: def(absPath, '/opt/sbin'),
  ipv6: def(bool(), true),
  policy: def(mapping({ input: def(policyValue, 'drop'), forward: def(policyValue, 'drop'), output: def(policyValue, 'drop') }), {}),
  loopback: def(bool(), true),
  conntrack: def(
    mapping({ established: def(either(word(['accept']), no()), 'accept'), invalid: def(either(word(['drop']), no()), 'drop') }),
    {},
  ),
  icmp: def(mapping({ echo_request: def(word(ECHO_REQUEST_ACTIONS), 'accept') }), {}),
  deny: def(mapping({ source: opt(addressSpec) }), {}),
  ssh: def(
    either(
      no(),
      mapping({
        port: def(port, 22),
        source: def(addressSpec, ['0.0.0.0/0', '::/0']),
        interface: opt(iface),
        rate_limit: def(either(no(), rateLimit), { hits: 4, seconds: 60 }),
      }),
    ),
    {},
  ),
  dns: def(serversOrBool, true),
  ntp: def(serversOrBool, true),
  dhcp: def(bool(), true),
  metadata: def(word(METADATA_MODES), 'root-only'),
  final: def(word(FINAL_ACTIONS), 'drop'),
  mode: def(word(MODES), 'enforce'),
  logging: def(
    mapping({ dropped: def(bool(), true), prefix: def(logPrefix, 'FW-DROP: '), limit: def(limit, '5/minute'), level: def(level, 4) }),
    {},
  ),
  docker: def(
    mapping({
      enabled: def(bool(), false),
      bridge: def(parsed(parseBridgeList, V.bridge!), [...DEFAULT_DOCKER_BRIDGES]),
      block_metadata: def(bool(), true),
    }),
    {},
  ),
  // conntrack_limits: the nf_conntrack sysctls, each optional, in the ranges of conntrack-limits.ts.
  conntrack_limits: opt(conntrackLimits),
  kubernetes: def(mapping({ enabled: def(bool(), false) }), {}),
  sets: def(
    named(
      setName,
      { type: 'string', pattern: SET_NAME_RE.source },
      mapping({ file: req(parsed(parseRelativeFile, V.file!)), allow_outside_project: def(bool(), false) }),
    ),
    {},
  ),
  persistence: def(mapping({ iptables_persistent: def(bool(), true), pre_up: def(bool(), true) }), {}),
  drift_check: def(
    mapping({
      schedule: def(parsed(parseSchedule, V.schedule!), '*/15 * * * *'),
      ignore_chains: def(list(parsed(parseChainGlob, V['ignore_chains[]']!)), [...DEFAULT_IGNORE_CHAINS]),
      textfile_dir: def(either(absPath, no()), '/var/lib/prometheus/node-exporter'),
    }),
    {},
  ),
  allow_no_ssh: def(bool(), false),
});

export type HostConfig = Output<typeof hostSchema>;
export type ServiceConfig = Output<typeof serviceSchema>;
export type RuleConfig = Output<typeof ruleSchema>;
