import { z } from 'zod';
import {
  ACTIONS,
  DIRECTIONS,
  ECHO_REQUEST_ACTIONS,
  FINAL_ACTIONS,
  METADATA_MODES,
  MODES,
  POLICIES,
  PROTOS,
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
  SET_NAME_RE,
} from './values.js';
import { DEFAULT_IGNORE_CHAINS, parseChainGlob } from './globs.js';
import { DEFAULT_DOCKER_BRIDGES, parseBridgeList, parseOwner } from './docker.js';
import { CONNTRACK_LIMITS } from './conntrack-limits.js';

/** A zod type backed by one of our value parsers (which throw ValueError with a message for people). */
function typed<T>(parse: (v: unknown) => T) {
  return z.unknown().transform((v, ctx): T => {
    try {
      return parse(v);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message });
      return z.NEVER;
    }
  });
}

const port = typed(parsePort);
const portList = typed(parsePortList);
const addressSpec = typed(parseAddressSpec);
const iface = typed(parseInterface);
const limit = typed(parseLimit);
const absPath = typed(parseAbsolutePath);
const chainGlob = typed(parseChainGlob);

const logPrefix = typed(parseLogPrefix);
const comment = typed(parseComment);
const description = typed(parseDescription);

const rateLimit = z.strictObject({
  // xt_recent remembers at most 20 packets per address by default, and the check counts the current one.
  hits: z.number().int().min(1).max(19),
  seconds: z.number().int().min(1).max(86400),
});

const onOff = <T extends z.ZodType>(inner: T) => z.union([z.literal(false), inner]);

/** Boolean, or a list of server addresses (dns, ntp). */
const serversOrBool = z.union([z.boolean(), addressSpec]);

const logSettings = z.strictObject({
  prefix: logPrefix.optional(),
  limit: limit.optional(),
  level: z.number().int().min(0).max(7).optional(),
});

export const ruleSchema = z.strictObject({
  direction: z.enum(DIRECTIONS),
  proto: z.enum(PROTOS).default('all'),
  dport: portList.optional(),
  sport: portList.optional(),
  interface: iface.optional(),
  source: addressSpec.optional(),
  destination: addressSpec.optional(),
  action: z.enum(ACTIONS).default('accept'),
  log: z.union([z.boolean(), logSettings]).default(false),
  rate_limit: rateLimit.optional(),
  // Docker's keys and the owner match (src/validate/docker.ts).
  user: typed(parseOwner).optional(),
  group: typed(parseOwner).optional(),
  // audit: drop/reject rules only (validate/audit.ts): log what it would drop, pass it on.
  audit: z.boolean().default(false),
  // notrack: in rules with a port only (notrack.ts checks the rest)
  notrack: z.boolean().optional(),
  comment: comment.optional(),
});

export const serviceSchema = z.strictObject({
  description: description.optional(),
  rules: z.array(ruleSchema).default([]),
});

const policyValue = z.enum(POLICIES, {
  error: 'must be "accept" or "drop" (the kernel has no reject policy; see "final: reject")',
});

export const hostSchema = z.strictObject({
  install_dir: absPath.default('/opt/sbin'),
  ipv6: z.boolean().default(true),
  policy: z
    .strictObject({
      input: policyValue.default('drop'),
      forward: policyValue.default('drop'),
      output: policyValue.default('drop'),
    })
    .prefault({}),
  loopback: z.boolean().default(true),
  conntrack: z
    .strictObject({
      established: z.union([z.literal('accept'), z.literal(false)]).default('accept'),
      invalid: z.union([z.literal('drop'), z.literal(false)]).default('drop'),
    })
    .prefault({}),
  icmp: z.strictObject({ echo_request: z.enum(ECHO_REQUEST_ACTIONS).default('accept') }).prefault({}),
  deny: z.strictObject({ source: addressSpec.optional() }).prefault({}),
  ssh: onOff(
    z.strictObject({
      port: port.prefault(22),
      source: addressSpec.prefault(['0.0.0.0/0', '::/0']),
      interface: iface.optional(),
      rate_limit: onOff(rateLimit).default({ hits: 4, seconds: 60 }),
    }),
  ).prefault({}),
  dns: serversOrBool.default(true),
  ntp: serversOrBool.default(true),
  dhcp: z.boolean().default(true),
  metadata: z.enum(METADATA_MODES).default('root-only'),
  final: z.enum(FINAL_ACTIONS).default('drop'),
  mode: z.enum(MODES).default('enforce'),
  logging: z
    .strictObject({
      dropped: z.boolean().default(true),
      prefix: logPrefix.default('FW-DROP: '),
      limit: limit.default('5/minute'),
      level: z.number().int().min(0).max(7).default(4),
    })
    .prefault({}),
  docker: z
    .strictObject({
      enabled: z.boolean().default(false),
      bridge: typed(parseBridgeList).prefault([...DEFAULT_DOCKER_BRIDGES]),
      block_metadata: z.boolean().default(true),
    })
    .prefault({}),
  // conntrack_limits: the nf_conntrack sysctls, each optional, in the ranges of conntrack-limits.ts
  conntrack_limits: z
    .strictObject(Object.fromEntries(CONNTRACK_LIMITS.map((l) => [l.key, z.number().int().min(l.min).max(l.max).optional()])) as {
      [K in (typeof CONNTRACK_LIMITS)[number]['key']]: z.ZodOptional<z.ZodNumber>;
    })
    .optional(),
  kubernetes: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  sets: z
    .record(
      z.string().regex(SET_NAME_RE, 'set names are letters, digits, "_" and "-", at most 24'),
      z.strictObject({ file: typed(parseRelativeFile), allow_outside_project: z.boolean().default(false) }),
    )
    .default({}),
  persistence: z
    .strictObject({
      iptables_persistent: z.boolean().default(true),
      pre_up: z.boolean().default(true),
    })
    .prefault({}),
  drift_check: z
    .strictObject({
      schedule: typed(parseSchedule).default('*/15 * * * *'),
      ignore_chains: z.array(chainGlob).default([...DEFAULT_IGNORE_CHAINS]),
      textfile_dir: z.union([absPath, z.literal(false)]).default('/var/lib/prometheus/node-exporter'),
    })
    .prefault({}),
  allow_no_ssh: z.boolean().default(false),
});

export type HostConfig = z.output<typeof hostSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type RuleConfig = z.output<typeof ruleSchema>;

/** Every key a schema object accepts, for "did you mean". */
export function knownKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}
