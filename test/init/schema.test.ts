import { Ajv2020 } from 'ajv/dist/2020.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXPECTATION_KEY_DOCS, HOST_KEY_DOCS, SERVICE_KEY_DOCS } from '../../src/validate/key-docs.js';
import { SCHEMA_FILES, VALUE_SCHEMAS, jsonSchemas, type JsonSchema, type SchemaKind } from '../../src/validate/json-schema.js';
import {
  ValueError,
  parseAbsolutePath,
  parseAddressSpec,
  parseChainGlob,
  parseComment,
  parseInterface,
  parseLimit,
  parseLogPrefix,
  parsePort,
  parsePortList,
  parseRelativeFile,
  parseSchedule,
} from '../../src/validate/values.js';
import { repoRoot, runCli } from '../helpers/render.js';

const schemas = jsonSchemas();
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
const validators = Object.fromEntries(Object.entries(schemas).map(([k, s]) => [k, ajv.compile(s)])) as Record<
  SchemaKind,
  ReturnType<typeof ajv.compile>
>;

const yamlOf = (file: string): unknown => parse(readFileSync(file, 'utf8'));

function check(kind: SchemaKind, data: unknown): string[] {
  const v = validators[kind];
  return v(data) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Every node of a schema with the key path it describes, as key-docs.ts names them. */
function* nodes(node: JsonSchema, path = ''): Generator<[string, JsonSchema]> {
  yield [path, node];
  const join = (k: string) => (path ? `${path}.${k}` : k);
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) yield* nodes(v, join(k));
  if (node.items && typeof node.items === 'object') yield* nodes(node.items as JsonSchema, `${path}[]`);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    yield* nodes(node.additionalProperties as JsonSchema, join('*'));
  for (const branch of (node.anyOf ?? []) as JsonSchema[]) yield* nodes(branch, path);
}

describe('the JSON Schemas', () => {
  it('are draft 2020-12, and ajv compiles them in strict mode', () => {
    for (const s of Object.values(schemas)) expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('leave no value unchecked: every value a parser reads gets a pattern', () => {
    for (const [kind, s] of Object.entries(schemas)) {
      const open = [...nodes(s)].filter(([, n]) => !['type', 'anyOf', 'enum', 'const', 'properties', 'pattern'].some((k) => k in n));
      expect(open.map(([p]) => `${kind}: ${p}`)).toEqual([]);
    }
  });

  it('refuse unknown keys in every mapping', () => {
    for (const [kind, s] of Object.entries(schemas)) {
      const loose = [...nodes(s)].filter(([, n]) => n.properties && n.additionalProperties !== false);
      expect(loose.map(([p]) => `${kind}: ${p}`)).toEqual([]);
    }
  });

  it('describe every key (key-docs.ts), which is also what init comments gen-fw.yaml with', () => {
    const docs = { host: HOST_KEY_DOCS, service: SERVICE_KEY_DOCS, expectations: EXPECTATION_KEY_DOCS };
    for (const [kind, s] of Object.entries(schemas) as [SchemaKind, JsonSchema][]) {
      // The items of a value's list (`ssh.source[]`) belong to the value's own description.
      const valueItem = (p: string) => p.endsWith('[]') && VALUE_SCHEMAS[p.slice(p.lastIndexOf('.') + 1, -2)] !== undefined;
      const paths = new Set([...nodes(s)].map(([p]) => p).filter((p) => p !== '' && !valueItem(p)));
      expect([...paths].filter((p) => !docs[kind][p]).map((p) => `${kind}: ${p}`)).toEqual([]);
      expect(
        Object.keys(docs[kind])
          .filter((p) => !paths.has(p))
          .map((p) => `${kind}: ${p} is documented but not in the schema`),
      ).toEqual([]);
    }
  });

  describe('accept what the validator accepts', () => {
    const scenarios = join(repoRoot, 'test/scenarios');
    const lintCorpus = join(repoRoot, 'test/lint');
    const serviceFiles = [
      ...readdirSync(scenarios).flatMap((s) => yamlFiles(join(scenarios, s, 'conf.d'))),
      ...yamlFiles(join(repoRoot, 'conf.d')),
      // The lint corpus is valid input too (bad-input aside).
      ...readdirSync(lintCorpus)
        .filter((c) => c !== 'bad-input')
        .flatMap((c) => yamlFiles(join(lintCorpus, c, 'conf.d'))),
    ];
    const hostFiles = [...readdirSync(scenarios), ...readdirSync(lintCorpus).filter((c) => c !== 'bad-input')]
      .flatMap((s) => [join(scenarios, s, 'gen-fw.yaml'), join(lintCorpus, s, 'gen-fw.yaml')])
      .filter(existsSync);

    it('finds the files', () => {
      expect(serviceFiles.length).toBeGreaterThan(5);
      expect(hostFiles.length).toBeGreaterThan(0);
    });
    it.each(serviceFiles.map((f) => [f.slice(repoRoot.length)]))('%s', (f) => {
      expect(check('service', yamlOf(join(repoRoot, f)))).toEqual([]);
    });
    it.each(hostFiles.map((f) => [f.slice(repoRoot.length)]))('%s', (f) => {
      expect(check('host', yamlOf(join(repoRoot, f)))).toEqual([]);
    });
  });

  describe('refuse each file of the broken-config corpus that has an unknown key', () => {
    const broken = join(repoRoot, 'test/safety/broken');
    // expect.txt lines like `conf.d/web.yaml:5:5 rules[0].coment: unknown key (...)`.
    const cases = readdirSync(broken).flatMap((c) =>
      readFileSync(join(broken, c, 'expect.txt'), 'utf8')
        .split('\n')
        .map((l) => /^(\S+\.yaml):\d+:\d+ (.+?): unknown key/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [c, m[1]!, lastKeyOf(m[2]!)] as const),
    );
    it('finds them', () => expect(cases.length).toBeGreaterThanOrEqual(3));
    it.each(cases)('%s: %s', (c, file, key) => {
      const errors = check(file === 'gen-fw.yaml' ? 'host' : 'service', yamlOf(join(broken, c, file)));
      expect(
        errors.some((e) => e.includes('additionalProperty') && e.includes(key)),
        errors.join('\n'),
      ).toBe(true);
    });
  });

  it('refuse the wrong values JSON Schema can see, as render does', () => {
    const broken = join(repoRoot, 'test/safety/broken');
    const cases: [string, string][] = [
      ['bad-direction', 'conf.d/web.yaml'],
      ['bad-protocol', 'conf.d/web.yaml'],
      ['bad-interface', 'conf.d/web.yaml'],
      ['port-too-big', 'conf.d/api.yaml'],
      ['port-not-a-number', 'conf.d/web.yaml'],
      ['rate-limit-out-of-range', 'conf.d/ssh-alt.yaml'],
      ['log-prefix-empty', 'conf.d/web.yaml'],
      ['address-leading-zero', 'conf.d/metrics.yaml'],
      ['address-zone-index', 'conf.d/link-local.yaml'],
      ['cidr-bad-prefix', 'conf.d/metrics.yaml'],
      ['rule-not-a-mapping', 'conf.d/web.yaml'],
      ['wrong-type', 'gen-fw.yaml'],
      ['host-log-prefix-too-long', 'gen-fw.yaml'],
    ];
    for (const [c, file] of cases) {
      expect(check(file === 'gen-fw.yaml' ? 'host' : 'service', yamlOf(join(broken, c, file))), `${c}/${file}`).not.toEqual([]);
    }
  });

  it('refuse a typo in an expectations file, and take the documented form', () => {
    const good = [{ packet: { direction: 'in', proto: 'tcp', source: '203.0.113.5', dport: 5432 }, expect: 'drop' }];
    expect(check('expectations', good)).toEqual([]);
    expect(check('expectations', [{ ...good[0], expcet: 'drop' }])).not.toEqual([]);
    expect(check('expectations', [{ packet: { ...good[0]!.packet, dprot: 80 }, expect: 'drop' }])).not.toEqual([]);
    expect(check('expectations', [{ ...good[0], expect: 'allow' }])).not.toEqual([]);
  });
});

/**
 * The patterns in VALUE_SCHEMAS restate the value parsers: held against them on samples.
 * Everything a parser takes, the schema takes (an editor must never flag a valid file);
 * what both refuse is listed; what only the parser can see (host bits, a range that runs
 * backwards) is left to render.
 */
describe('value schemas agree with the value parsers', () => {
  const samples: [string, (v: unknown) => unknown, unknown[], unknown[]][] = [
    ['port', parsePort, [1, 22, 65535, '8080', '2379:2380', ' 443 ', '1:65535'], [0, 65536, -1, 80.5, 'http', '80-90', '', true, '70000']],
    ['dport', parsePortList, [80, [80, 443], ['1000:2000', 22]], [[], [0], 'x', [65536]]],
    [
      'source',
      parseAddressSpec,
      ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32', '::/0', '0.0.0.0/0', '@blocklist', ['10.0.0.1', 'fd00::1', '@office'], 'fe80::1'],
      ['10.0.0.256', '010.0.0.1', 'fe80::1%eth0', '10.0.0.0/33', '@', [], 'example.com', 3, '10.1'],
    ],
    [
      'interface',
      parseInterface,
      ['eth0', 'br-+', '+', 'docker0', 'enp0s31f6', 'veth.1'],
      ['', 'a-name-longer-than-15', 'eth 0', '$(x)', 'eth0++'],
    ],
    ['prefix', parseLogPrefix, ['FW-DROP: ', 'x', 'a'.repeat(29)], ['', 'a'.repeat(30), 'line\nbreak']],
    ['limit', parseLimit, ['5/min', '10/second', '100/hour', '1/d', '5/minute'], ['5', '0/min', '5/week', 5]],
    ['comment', parseComment, ['http and https', 42, ''], ['a'.repeat(201), 'tab\there']],
    ['install_dir', parseAbsolutePath, ['/opt/sbin', '/', '/usr/local/sbin/'], ['opt/sbin', '/opt/../etc', '/opt/./x', '/opt/s bin', '']],
    ['file', parseRelativeFile, ['lists/blocklist.txt', 'a', '/etc/list'], ['', 'a b', 'x;y']],
    [
      'schedule',
      parseSchedule,
      ['*/15 * * * *', '@hourly', '0 3 * * 1-5', '5,35 */2 * * *'],
      ['* * * *', 'hourly', '*/15 * * * * *', 'x * * * *'],
    ],
    ['ignore_chains[]', parseChainGlob, ['DOCKER*', 'KUBE-*', 'f2b-?'], ['', 'a b', 'x'.repeat(29)]],
  ];
  const ajvValues = new Ajv2020({ strict: true, strictTypes: false });
  const parses = (parse: (v: unknown) => unknown, v: unknown) => {
    try {
      parse(v);
      return true;
    } catch (e) {
      if (e instanceof ValueError) return false;
      throw e;
    }
  };
  it.each(samples)('%s', (key, parse, good, bad) => {
    const valid = ajvValues.compile(VALUE_SCHEMAS[key]!);
    for (const v of good) {
      expect(parses(parse, v), `parser takes ${JSON.stringify(v)}`).toBe(true);
      expect(valid(v), `schema takes ${JSON.stringify(v)}`).toBe(true);
    }
    for (const v of bad) {
      expect(parses(parse, v), `parser refuses ${JSON.stringify(v)}`).toBe(false);
      expect(valid(v), `schema refuses ${JSON.stringify(v)}`).toBe(false);
    }
  });
});

describe('gen-fw schema', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gen-fw-schema-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the three schemas into --out, as generated', async () => {
    const out = join(dir, 'nested/schema');
    const r = await runCli(['schema', '--out', out], dir);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const [kind, file] of Object.entries(SCHEMA_FILES) as [SchemaKind, string][]) {
      expect(JSON.parse(readFileSync(join(out, file), 'utf8'))).toEqual(schemas[kind]);
    }
    expect(readdirSync(out).sort()).toEqual(Object.values(SCHEMA_FILES).sort());
  });

  it('writes ./schema by default, and refuses a file as --out (exit 2)', async () => {
    const r = await runCli(['schema'], dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'schema')).sort()).toEqual(Object.values(SCHEMA_FILES).sort());
    const f = await runCli(['schema', '--out', join(dir, 'schema', SCHEMA_FILES.host)], dir);
    expect(f.exitCode).toBe(2);
    expect(f.stderr).toContain('is not a directory');
  });
});

/** The last key of a problem's key path: `rules[0].coment` → coment, `rules[0]["$(x)"]` → $(x). */
function lastKeyOf(path: string): string {
  const quoted = /\["((?:[^"\\]|\\.)*)"\]$/.exec(path);
  return quoted ? (JSON.parse(`"${quoted[1]}"`) as string) : path.slice(path.lastIndexOf('.') + 1);
}

function yamlFiles(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => /\.ya?ml$/.test(n))
        .map((n) => join(dir, n))
    : [];
}
