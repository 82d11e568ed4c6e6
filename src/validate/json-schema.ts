import { EXPECTATION_KEY_DOCS, HOST_KEY_DOCS, SERVICE_KEY_DOCS, type KeyDoc } from './key-docs.js';
import { hostSchema, serviceSchema } from './schema.js';
import type { JsonSchema, Node } from './spec.js';
import { ACTIONS } from './values.js';
import { OCTET, PORT_NUMBER } from './value-schemas.js';

export { VALUE_SCHEMAS } from './value-schemas.js';
export type { JsonSchema } from './spec.js';

/*
 * JSON Schemas (draft 2020-12) for editors, generated from the validator's own definition
 * (schema.ts, through spec.ts): keys, nesting, words, numbers, defaults and the patterns of
 * the values our parsers read (value-schemas.ts) come from there; this file adds each
 * key's description (key-docs.ts). The expectations file has no definition in schema.ts
 * (`gen-fw verify` reads it in code); its JSON Schema is written out below.
 */

/** The file each schema is written to, in `gen-fw schema --out DIR` and the package's schema/. */
export const SCHEMA_FILES = {
  host: 'gen-fw.schema.json',
  service: 'service.schema.json',
  expectations: 'expectations.schema.json',
} as const;

export type SchemaKind = keyof typeof SCHEMA_FILES;

/** Add each key's description (key-docs.ts), walking the schema by key path (`ssh.rate_limit`, `rules[].dport`). */
function describe(node: JsonSchema, path: string, docs: Record<string, KeyDoc>, entered: boolean): JsonSchema {
  const out: JsonSchema = { ...node };
  const doc = entered ? docs[path] : undefined;
  if (doc) out.description = doc.text;
  const join = (k: string) => (path ? `${path}.${k}` : k);
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [k, describe(v, join(k), docs, true)]),
    );
  }
  if (out.items && typeof out.items === 'object') out.items = describe(out.items as JsonSchema, `${path}[]`, docs, true);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = describe(out.additionalProperties as JsonSchema, join('*'), docs, true);
  }
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(out[k])) out[k] = (out[k] as JsonSchema[]).map((v) => describe(v, path, docs, false));
  }
  return out;
}

function fromDefinition(schema: Node<unknown>, title: string, docs: Record<string, KeyDoc>): JsonSchema {
  // An empty file is read as an empty mapping.
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title,
    ...describe(schema.toJsonSchema(), '', docs, false),
    type: ['object', 'null'],
  };
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
  const onePort: JsonSchema = {
    anyOf: [
      { type: 'integer', minimum: 1, maximum: 65535 },
      { type: 'string', pattern: `^\\s*0*${PORT_NUMBER}\\s*$` },
    ],
  };
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
      user: {
        anyOf: [
          { type: 'string', pattern: '^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?|\\d+)$' },
          { type: 'integer', minimum: 0, maximum: 4294967294 },
        ],
      },
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
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'gen-fw verify: expectations',
    ...describe(generated, '', EXPECTATION_KEY_DOCS, false),
  };
}

/** The three schemas, by kind. */
export function jsonSchemas(): Record<SchemaKind, JsonSchema> {
  return {
    host: fromDefinition(hostSchema, 'gen-fw.yaml: host-wide settings', HOST_KEY_DOCS),
    service: fromDefinition(serviceSchema, 'conf.d/NAME.yaml: one service', SERVICE_KEY_DOCS),
    expectations: expectationsSchema(),
  };
}
