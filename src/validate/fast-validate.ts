import type { HostConfig, RuleConfig, ServiceConfig } from './schema.js';
import {
  ACTIONS,
  DEFAULT_IGNORE_CHAINS,
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
  parseChainGlob,
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
import { DEFAULT_DOCKER_BRIDGES, parseBridgeList, parseOwner } from './docker.js';
import { CONNTRACK_LIMITS, CONNTRACK_LIMIT_KEYS } from './conntrack-limits.js';

/*
 * The fast path of validation: what the zod schema (schema.ts) makes of a config that is
 * right, without loading zod. Every key and value goes through the same value parsers;
 * anything not plainly right (a wrong value, an unknown key, a form not handled here)
 * makes these functions return undefined, and the caller asks the schema, which decides
 * and says what is wrong and where. So this may refuse more than the schema does, never
 * accept more, and what it accepts comes out exactly as the schema's output
 * (test/unit/fast-validate.test.ts compares the two).
 */

/** The fast path is not sure; the schema decides. */
class NotPlain extends Error {}

type Fields = Record<string, unknown>;

export const RULE_KEYS = ['direction', 'proto', 'dport', 'sport', 'interface', 'source', 'destination', 'action', 'log', 'rate_limit', 'user', 'group', 'audit', 'notrack', 'comment'] as const;
export const SERVICE_KEYS = ['description', 'rules'] as const;
export const HOST_KEYS = [
  'install_dir', 'ipv6', 'policy', 'loopback', 'conntrack', 'icmp', 'deny', 'ssh', 'dns', 'ntp', 'dhcp', 'metadata',
  'final', 'mode', 'logging', 'docker', 'conntrack_limits', 'kubernetes', 'sets', 'persistence', 'drift_check', 'allow_no_ssh',
] as const;
/** The keys of the mappings inside a host config and a rule, by where they sit. */
export const NESTED_KEYS = {
  'rules[].log': ['prefix', 'limit', 'level'],
  'rules[].rate_limit': ['hits', 'seconds'],
  policy: ['input', 'forward', 'output'],
  conntrack: ['established', 'invalid'],
  icmp: ['echo_request'],
  deny: ['source'],
  ssh: ['port', 'source', 'interface', 'rate_limit'],
  'ssh.rate_limit': ['hits', 'seconds'],
  logging: ['dropped', 'prefix', 'limit', 'level'],
  docker: ['enabled', 'bridge', 'block_metadata'],
  conntrack_limits: CONNTRACK_LIMIT_KEYS,
  kubernetes: ['enabled'],
  'sets.*': ['file', 'allow_outside_project'],
  persistence: ['iptables_persistent', 'pre_up'],
  drift_check: ['schedule', 'ignore_chains', 'textfile_dir'],
} as const satisfies Record<string, readonly string[]>;

/** A service file's data as serviceSchema would output it, or undefined when the schema must decide. */
export function fastValidateService(data: unknown): ServiceConfig | undefined {
  return attempt(() => {
    const f = fields(data, SERVICE_KEYS);
    const out: Fields = {};
    optional(out, 'description', f.description, parseDescription);
    if (f.rules === undefined) out.rules = [];
    else if (Array.isArray(f.rules)) out.rules = f.rules.map(rule);
    else throw new NotPlain();
    return out as ServiceConfig;
  });
}

/** gen-fw.yaml's data as hostSchema would output it, or undefined when the schema must decide. */
export function fastValidateHost(data: unknown): HostConfig | undefined {
  return attempt(() => {
    const f = fields(data, HOST_KEYS);
    const policy = section(f.policy, NESTED_KEYS.policy);
    const conntrack = section(f.conntrack, NESTED_KEYS.conntrack);
    const icmp = section(f.icmp, NESTED_KEYS.icmp);
    const deny = section(f.deny, NESTED_KEYS.deny);
    const logging = section(f.logging, NESTED_KEYS.logging);
    const docker = section(f.docker, NESTED_KEYS.docker);
    const kubernetes = section(f.kubernetes, NESTED_KEYS.kubernetes);
    const persistence = section(f.persistence, NESTED_KEYS.persistence);
    const drift = section(f.drift_check, NESTED_KEYS.drift_check);
    const denyOut: Fields = {};
    optional(denyOut, 'source', deny.source, parseAddressSpec);
    const host = {
      install_dir: f.install_dir === undefined ? '/opt/sbin' : parseAbsolutePath(f.install_dir),
      ipv6: bool(f.ipv6, true),
      policy: {
        input: oneOf(policy.input, POLICIES, 'drop'),
        forward: oneOf(policy.forward, POLICIES, 'drop'),
        output: oneOf(policy.output, POLICIES, 'drop'),
      },
      loopback: bool(f.loopback, true),
      conntrack: {
        established: conntrack.established === false ? false : oneOf(conntrack.established, ['accept'], 'accept'),
        invalid: conntrack.invalid === false ? false : oneOf(conntrack.invalid, ['drop'], 'drop'),
      },
      icmp: { echo_request: oneOf(icmp.echo_request, ECHO_REQUEST_ACTIONS, 'accept') },
      deny: denyOut,
      ssh: f.ssh === false ? false : ssh(f.ssh),
      dns: serversOrBool(f.dns),
      ntp: serversOrBool(f.ntp),
      dhcp: bool(f.dhcp, true),
      metadata: oneOf(f.metadata, METADATA_MODES, 'root-only'),
      final: oneOf(f.final, FINAL_ACTIONS, 'drop'),
      mode: oneOf(f.mode, MODES, 'enforce'),
      logging: {
        dropped: bool(logging.dropped, true),
        prefix: logging.prefix === undefined ? 'FW-DROP: ' : parseLogPrefix(logging.prefix),
        limit: logging.limit === undefined ? '5/minute' : parseLimit(logging.limit),
        level: int(logging.level, 0, 7, 4),
      },
      docker: {
        enabled: bool(docker.enabled, false),
        bridge: docker.bridge === undefined ? [...DEFAULT_DOCKER_BRIDGES] : parseBridgeList(docker.bridge),
        block_metadata: bool(docker.block_metadata, true),
      },
      ...(f.conntrack_limits === undefined ? {} : { conntrack_limits: conntrackLimits(f.conntrack_limits) }),
      kubernetes: { enabled: bool(kubernetes.enabled, false) },
      sets: sets(f.sets),
      persistence: {
        iptables_persistent: bool(persistence.iptables_persistent, true),
        pre_up: bool(persistence.pre_up, true),
      },
      drift_check: {
        schedule: drift.schedule === undefined ? '*/15 * * * *' : parseSchedule(drift.schedule),
        ignore_chains: drift.ignore_chains === undefined ? [...DEFAULT_IGNORE_CHAINS] : list(drift.ignore_chains).map(parseChainGlob),
        textfile_dir:
          drift.textfile_dir === undefined ? '/var/lib/prometheus/node-exporter' : drift.textfile_dir === false ? false : parseAbsolutePath(drift.textfile_dir),
      },
      allow_no_ssh: bool(f.allow_no_ssh, false),
    };
    return host as HostConfig;
  });
}

function attempt<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (e) {
    if (e instanceof NotPlain || e instanceof ValueError) return undefined;
    throw e;
  }
}

function rule(value: unknown): RuleConfig {
  const f = fields(value, RULE_KEYS);
  const out: Fields = { direction: oneOf(f.direction, DIRECTIONS), proto: oneOf(f.proto, PROTOS, 'all') };
  optional(out, 'dport', f.dport, parsePortList);
  optional(out, 'sport', f.sport, parsePortList);
  optional(out, 'interface', f.interface, parseInterface);
  optional(out, 'source', f.source, parseAddressSpec);
  optional(out, 'destination', f.destination, parseAddressSpec);
  out.action = oneOf(f.action, ACTIONS, 'accept');
  out.log = f.log === undefined ? false : typeof f.log === 'boolean' ? f.log : logSettings(f.log);
  optional(out, 'rate_limit', f.rate_limit, rateLimit);
  optional(out, 'user', f.user, parseOwner);
  optional(out, 'group', f.group, parseOwner);
  out.audit = bool(f.audit, false);
  optional(out, 'notrack', f.notrack, (v) => bool(v, false));
  optional(out, 'comment', f.comment, parseComment);
  return out as unknown as RuleConfig;
}

function logSettings(value: unknown): Fields {
  const f = fields(value, NESTED_KEYS['rules[].log']);
  const out: Fields = {};
  optional(out, 'prefix', f.prefix, parseLogPrefix);
  optional(out, 'limit', f.limit, parseLimit);
  optional(out, 'level', f.level, (v) => int(v, 0, 7));
  return out;
}

function rateLimit(value: unknown): { hits: number; seconds: number } {
  const f = fields(value, NESTED_KEYS['rules[].rate_limit']);
  return { hits: int(f.hits, 1, 19), seconds: int(f.seconds, 1, 86400) };
}

function conntrackLimits(value: unknown): Fields {
  const f = fields(value, NESTED_KEYS.conntrack_limits);
  const out: Fields = {};
  for (const l of CONNTRACK_LIMITS) optional(out, l.key, f[l.key], (v) => int(v, l.min, l.max));
  return out;
}

function ssh(value: unknown): Fields {
  const f = section(value, NESTED_KEYS.ssh);
  const out: Fields = {
    port: parsePort(f.port === undefined ? 22 : f.port),
    source: parseAddressSpec(f.source === undefined ? ['0.0.0.0/0', '::/0'] : f.source),
  };
  optional(out, 'interface', f.interface, parseInterface);
  out.rate_limit = f.rate_limit === undefined ? { hits: 4, seconds: 60 } : f.rate_limit === false ? false : rateLimit(f.rate_limit);
  return out;
}

function serversOrBool(value: unknown): unknown {
  if (value === undefined) return true;
  return typeof value === 'boolean' ? value : parseAddressSpec(value);
}

function sets(value: unknown): Fields {
  if (value === undefined) return {};
  const out: Fields = {};
  for (const [name, def] of Object.entries(plainObject(value))) {
    if (!SET_NAME_RE.test(name)) throw new NotPlain();
    const d = fields(def, NESTED_KEYS['sets.*']);
    out[name] = { file: parseRelativeFile(d.file), allow_outside_project: bool(d.allow_outside_project, false) };
  }
  return out;
}

/** A mapping that may be left out (the schema's prefault({})); null is no mapping. */
function section(value: unknown, keys: readonly string[]): Fields {
  return value === undefined ? {} : fields(value, keys);
}

/** A plain mapping with only the given keys, none of them undefined. */
function fields(value: unknown, keys: readonly string[]): Fields {
  const object = plainObject(value);
  for (const key of Object.keys(object)) {
    if (!keys.includes(key) || object[key] === undefined) throw new NotPlain();
  }
  return object;
}

function plainObject(value: unknown): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NotPlain();
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new NotPlain();
  return value as Fields;
}

function list(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new NotPlain();
  return value;
}

function optional(out: Fields, key: string, value: unknown, parse: (v: unknown) => unknown): void {
  if (value !== undefined) out[key] = parse(value);
}

/**
 * One of the words, returned as the word from the list rather than the input's copy of it:
 * the same string for every file, and V8 keeps it one byte per character (a parsed string
 * that is later used as a property key turns into a reference that Array.prototype.join
 * treats as two-byte, doubling the size of every line it ends up in).
 */
function oneOf<T extends string>(value: unknown, words: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  const i = typeof value === 'string' ? (words as readonly string[]).indexOf(value) : -1;
  if (i < 0) throw new NotPlain();
  return words[i]!;
}

function bool(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw new NotPlain();
}

function int(value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw new NotPlain();
}
