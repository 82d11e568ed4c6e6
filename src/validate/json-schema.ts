import { z } from 'zod';
import { defaultHostInput } from './default-host.js';
import { EXPECTATION_KEY_DOCS, HOST_KEY_DOCS, SERVICE_KEY_DOCS, type KeyDoc } from './key-docs.js';
import { hostSchema, serviceSchema } from './schema.js';
import { ACTIONS, SET_NAME_RE } from './values.js';

/*
 * JSON Schemas (draft 2020-12) for editors, generated from the validator's own zod schemas
 * (schema.ts): the keys, nesting, enums, numbers and defaults come from there. What zod
 * cannot say — the values our parsers check in code (ports, addresses, interface names,
 * paths, cron schedules) come out of z.toJSONSchema as `{}` — is filled in here by key name
 * from VALUE_SCHEMAS, whose patterns mirror the parsers in values.ts and globs.ts
 * (test/init/schema.test.ts holds the two against each other on sample values).
 *
 * The boundary: hostSchema and serviceSchema in, three JSON documents out. If the
 * validator changes its definitions, only this file follows it. The expectations file has
 * no zod schema (`gen-fw verify` reads it in code); its JSON Schema is written out below.
 */

export type JsonSchema = Record<string, unknown>;

/** The file each schema is written to, in `gen-fw schema --out DIR` and the package's schema/. */
export const SCHEMA_FILES = {
  host: 'gen-fw.schema.json',
  service: 'service.schema.json',
  expectations: 'expectations.schema.json',
} as const;

export type SchemaKind = keyof typeof SCHEMA_FILES;

const PORT_NUMBER = '(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
const port: JsonSchema = {
  anyOf: [
    { type: 'integer', minimum: 1, maximum: 65535 },
    { type: 'string', pattern: `^\\s*0*${PORT_NUMBER}(?::0*${PORT_NUMBER})?\\s*$` },
  ],
};
const portList: JsonSchema = { anyOf: [port, { type: 'array', minItems: 1, items: port }] };

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}(?:/(?:3[0-2]|[12]?\\d))?`;
// IPv6 in full would be a page of regex; this takes its characters, and the validator the rest.
const IPV6 = '[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:/(?:12[0-8]|1[01]\\d|[1-9]?\\d))?';
const SET_NAME = SET_NAME_RE.source.replace(/^\^|\$$/g, '');
const address: JsonSchema = { type: 'string', pattern: `^\\s*(?:${IPV4}|${IPV6})\\s*$` };
const addressOrSet: JsonSchema = { type: 'string', pattern: `^(?:\\s*(?:${IPV4}|${IPV6})\\s*|@${SET_NAME})$` };
const addressSpec: JsonSchema = { anyOf: [addressOrSet, { type: 'array', minItems: 1, items: addressOrSet }] };
const addressList: JsonSchema = { anyOf: [address, { type: 'array', minItems: 1, items: address }] };

const iface: JsonSchema = { type: 'string', pattern: '^(?:[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,14}\\+?|\\+)$' };
const oneLine = (max: number, min = 0): JsonSchema => ({
  anyOf: [{ type: 'string', minLength: min, maxLength: max, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$' }, { type: 'number' }],
});
const limit: JsonSchema = { type: 'string', pattern: '^[1-9]\\d{0,5}/(?:second|sec|s|minute|min|m|hour|h|day|d)$' };
const absPath: JsonSchema = { type: 'string', pattern: '^/[A-Za-z0-9_./-]*$', not: { pattern: '(?:^|/)\\.\\.?(?:/|$)' } };
const relativeFile: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_./-]+$' };
const chainGlob: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_.*?-]{1,28}$' };
const CRON_FIELD = '(?:\\*|\\d{1,2}(?:-\\d{1,2})?)(?:/\\d{1,2})?(?:,(?:\\*|\\d{1,2}(?:-\\d{1,2})?)(?:/\\d{1,2})?)*';
const schedule: JsonSchema = {
  type: 'string',
  pattern: `^(?:@(?:hourly|daily|weekly|monthly|yearly|annually|reboot)|\\s*${CRON_FIELD}(?:\\s+${CRON_FIELD}){4}\\s*)$`,
};

/** The JSON Schema of each value zod only knows as "unknown, then our parser": by the key it sits under. */
export const VALUE_SCHEMAS: Record<string, JsonSchema> = {
  port,
  dport: portList,
  sport: portList,
  source: addressSpec,
  destination: addressSpec,
  dns: addressList,
  ntp: addressList,
  interface: iface,
  bridge: { anyOf: [iface, { type: 'array', items: iface, minItems: 1 }] },
  user: { anyOf: [{ type: 'integer', minimum: 0, maximum: 4294967294 }, { type: 'string', pattern: '^(?:[a-z_][a-z0-9_-]{0,30}\\$?|\\d{1,10})$' }] },
  group: { anyOf: [{ type: 'integer', minimum: 0, maximum: 4294967294 }, { type: 'string', pattern: '^(?:[a-z_][a-z0-9_-]{0,30}\\$?|\\d{1,10})$' }] },
  prefix: oneLine(29, 1),
  limit,
  comment: oneLine(200),
  description: oneLine(500),
  install_dir: absPath,
  textfile_dir: absPath,
  file: relativeFile,
  schedule,
  'ignore_chains[]': chainGlob,
};

const STRUCTURAL = ['type', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', 'properties', 'items', '$ref', 'not', 'pattern'];

/** A node zod could say nothing about (its value is checked in code). */
const opaque = (node: JsonSchema): boolean => !STRUCTURAL.some((k) => k in node);

const lastKey = (path: string): string => path.slice(path.lastIndexOf('.') + 1);

const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), value);

/**
 * Fill in the value schemas, the descriptions and (for gen-fw.yaml) the defaults zod's
 * output leaves out, walking the schema by key path (`ssh.rate_limit`, `rules[].dport`).
 */
function complete(node: JsonSchema, path: string, docs: Record<string, KeyDoc>, defaults: unknown, entered: boolean, required = false): JsonSchema {
  let out: JsonSchema = { ...node };
  if (opaque(out)) out = { ...(VALUE_SCHEMAS[lastKey(path)] ?? {}), ...out };
  if (entered) {
    const doc = docs[path];
    if (doc) out.description = doc.text;
    const d = required || path.includes('[]') || path.includes('*') ? undefined : at(defaults, path);
    if (out.default === undefined && d !== undefined && !(typeof d === 'object' && d && Object.keys(d).length === 0)) out.default = d;
  }
  const join = (k: string) => (path ? `${path}.${k}` : k);
  if (out.properties) {
    const req = (out.required ?? []) as string[];
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [k, complete(v, join(k), docs, defaults, true, req.includes(k))]),
    );
  }
  if (out.items && typeof out.items === 'object') out.items = complete(out.items as JsonSchema, `${path}[]`, docs, defaults, true);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = complete(out.additionalProperties as JsonSchema, join('*'), docs, defaults, true);
  }
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(out[k])) out[k] = (out[k] as JsonSchema[]).map((v) => complete(v, path, docs, defaults, false));
  }
  return out;
}

function fromZod(schema: z.ZodType, title: string, docs: Record<string, KeyDoc>, defaults?: unknown): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  const { $schema, ...rest } = complete(generated, '', docs, defaults, false);
  // An empty file is read as an empty mapping.
  return { $schema, title, ...rest, type: ['object', 'null'] };
}

/*
 * The expectations file as `gen-fw verify` reads it (src/explain/read-expectations.ts and
 * packet.ts on main, which this branch does not have yet): when merged, take the word lists
 * from PACKET_DIRECTIONS, PACKET_PROTOS, PACKET_STATES and PACKET_KEYS there.
 */
const PACKET_DIRECTIONS = ['in', 'out', 'forward', 'docker', 'docker-out'];
const PACKET_PROTOS = ['tcp', 'udp', 'icmp', 'ipv6-icmp'];
const PACKET_STATES = ['new', 'established'];

function expectationsSchema(): JsonSchema {
  const hostAddress: JsonSchema = { type: 'string', pattern: `^\\s*(?:${OCTET}(?:\\.${OCTET}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\\s*$` };
  const onePort: JsonSchema = { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: `^\\s*0*${PORT_NUMBER}\\s*$` }] };
  const packet: JsonSchema = {
    type: 'object',
    properties: {
      direction: { type: 'string', enum: PACKET_DIRECTIONS },
      proto: { type: 'string', enum: PACKET_PROTOS },
      source: hostAddress,
      destination: hostAddress,
      sport: onePort,
      dport: onePort,
      interface: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,14}$' },
      user: { anyOf: [{ type: 'string', pattern: '^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?|\\d+)$' }, { type: 'integer', minimum: 0, maximum: 4294967294 }] },
      state: { type: 'string', enum: PACKET_STATES },
    },
    required: ['direction', 'proto'],
    additionalProperties: false,
  };
  const expectation: JsonSchema = {
    type: 'object',
    properties: { packet, expect: { type: 'string', enum: [...ACTIONS] } },
    required: ['packet', 'expect'],
    additionalProperties: false,
  };
  const generated: JsonSchema = { type: 'array', minItems: 1, items: expectation };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'gen-fw verify: expectations', ...complete(generated, '', EXPECTATION_KEY_DOCS, undefined, false) };
}

/** The three schemas, by kind. */
export function jsonSchemas(): Record<SchemaKind, JsonSchema> {
  return {
    host: fromZod(hostSchema, 'gen-fw.yaml: host-wide settings', HOST_KEY_DOCS, defaultHostInput()),
    service: fromZod(serviceSchema, 'conf.d/NAME.yaml: one service', SERVICE_KEY_DOCS),
    expectations: expectationsSchema(),
  };
}
