import { SET_NAME_RE } from './values.js';
import type { JsonSchema } from './spec.js';

/*
 * What JSON Schema can say about the values our parsers read (values.ts, globs.ts,
 * docker.ts): patterns that mirror the parsers. An editor must never flag what the parser
 * takes; what only the parser can see (host bits, a range that runs backwards) is left to
 * render. test/init/schema.test.ts holds each against its parser on sample values.
 */

export const PORT_NUMBER = '(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
const port: JsonSchema = {
  anyOf: [
    { type: 'integer', minimum: 1, maximum: 65535 },
    { type: 'string', pattern: `^\\s*0*${PORT_NUMBER}(?::0*${PORT_NUMBER})?\\s*$` },
  ],
};
const portList: JsonSchema = { anyOf: [port, { type: 'array', minItems: 1, items: port }] };

export const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
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

/** The JSON Schema of each value a parser reads, by the key it sits under (schema.ts uses them; tests sample them). */
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
  user: {
    anyOf: [
      { type: 'integer', minimum: 0, maximum: 4294967294 },
      { type: 'string', pattern: '^(?:[a-z_][a-z0-9_-]{0,30}\\$?|\\d{1,10})$' },
    ],
  },
  group: {
    anyOf: [
      { type: 'integer', minimum: 0, maximum: 4294967294 },
      { type: 'string', pattern: '^(?:[a-z_][a-z0-9_-]{0,30}\\$?|\\d{1,10})$' },
    ],
  },
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
