import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseYamlFile } from '../../src/parse/parse-yaml.js';
import { HOST_KEYS, NESTED_KEYS, RULE_KEYS, SERVICE_KEYS, fastValidateHost, fastValidateService } from '../../src/validate/fast-validate.js';
import { hostSchema, serviceSchema } from '../../src/validate/schema.js';
import { objectKeysAt } from '../../src/validate/zod-problems.js';
import { repoRoot } from '../helpers/render.js';

/**
 * The fast path of validation may refuse more than the zod schema, never accept more, and
 * what it accepts must come out exactly as the schema's output (same values, same keys in
 * the same order): checked on arbitrary near-valid data, and on every YAML file the tests
 * carry.
 */
type Schema = typeof hostSchema | typeof serviceSchema;

function agrees(fast: (d: unknown) => unknown, schema: Schema, data: unknown): boolean {
  const quick = fast(data);
  if (quick === undefined) return false;
  const r = schema.safeParse(data);
  expect(r.success, `fast path accepted what the schema refuses: ${JSON.stringify(data)}`).toBe(true);
  expect(isDeepStrictEqual(quick, r.data), JSON.stringify(data)).toBe(true);
  expect(JSON.stringify(quick)).toBe(JSON.stringify(r.data));
  return true;
}

/** Mostly valid values, sometimes a wrong one: enough of both to exercise each side. */
const WRONG = [null, 'x', 5, 1.5, true, [], {}, NaN, Infinity, -1, '', ['x']];
const pick = <T,>(good: readonly T[], nearMisses: readonly unknown[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...good), weight: 18 },
    { arbitrary: fc.constantFrom(...nearMisses), weight: 2 },
    { arbitrary: fc.constantFrom(...WRONG), weight: 1 },
  );

/** A mapping with any subset of the given keys, sometimes with an unknown key, sometimes not a mapping at all. */
function mapping(model: Record<string, fc.Arbitrary<unknown>>, requiredKeys: string[] = []): fc.Arbitrary<unknown> {
  const extra = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 30 },
    { arbitrary: fc.constantFrom<[string, unknown]>(['dirction', 'in'], ['extra', 1], ['__proto__', { x: 1 }], ['constructor', 'x']), weight: 1 },
  );
  const withExtra = fc.tuple(fc.record(model, { requiredKeys }), extra).map(([o, e]) => {
    const out: Record<string, unknown> = { ...o };
    if (e) Object.defineProperty(out, e[0], { value: e[1], enumerable: true, writable: true, configurable: true });
    return out;
  });
  return fc.oneof({ arbitrary: withExtra, weight: 30 }, { arbitrary: fc.constantFrom(...WRONG), weight: 1 });
}

const address = pick(
  ['10.0.0.0/8', '192.0.2.1', '198.51.100.0/24', '2001:db8::/32', '2001:db8::1', '0.0.0.0/0', '::/0', ['192.0.2.1', '2001:db8::1'], ['@blocklist', '10.1.0.0/16'], '@blocklist', ' 192.0.2.7 '],
  ['10.0.0.1/8', '010.0.0.1', 'fe80::1%eth0', '::ffff:192.0.2.1', '10.1', '1.2.3.4/33', '@bad name', []],
);
const ports = pick([22, 443, '80:90', [80, '443'], ['8000:8010', 8443], ' 53 '], ['90:80', 0, 70000, 'ssh', [], '1:2:3']);
const iface = pick(['eth0', 'eth+', '+', 'br-1234', 'ens5.100'], ['a'.repeat(16), 'bad iface', 'eth0;x']);
const text = pick(['ok', 'a comment: with "quotes" and $(dollar)', 5, 'é', 'x'.repeat(29)], ['', 'x'.repeat(501), 'a\nb', 'a\u0085b']);
const prefix = pick(['svc: ', 'FW: ', 7], ['', 'x'.repeat(30), 'a\tb']);
const rate = pick(['5/min', '10/second', '100/hour', '1/d'], ['5/fortnight', '0/min', '5 / min']);
const bool = pick([true, false], ['yes', 0, 1]);
const level = pick([0, 4, 7], [8, 4.5, '4']);
const hits = pick([1, 4, 19], [0, 20, 2.5]);
const seconds = pick([1, 60, 86400], [0, 86401]);
const rateLimit = mapping({ hits, seconds });
const log = fc.oneof(bool, mapping({ prefix, limit: rate, level }));

const rule = mapping({
  direction: pick(['in', 'out', 'forward', 'docker'], ['IN', 'inbound']),
  proto: pick(['tcp', 'udp', 'icmp', 'ipv6-icmp', 'all'], ['tpc', 'TCP']),
  dport: ports,
  sport: ports,
  interface: iface,
  source: address,
  destination: address,
  action: pick(['accept', 'drop', 'reject'], ['ACCEPT', 'allow']),
  log,
  rate_limit: rateLimit,
  notrack: bool,
  comment: text,
}, ['direction']);
const service = mapping({ description: text, rules: fc.oneof({ arbitrary: fc.array(rule, { maxLength: 4 }), weight: 8 }, { arbitrary: fc.constantFrom(...WRONG), weight: 1 }) });

const policy = pick(['accept', 'drop'], ['reject']);
const path = pick(['/opt/sbin', '/usr/local/sbin/', '/'], ['opt/sbin', '/a/../b', '/a b']);
const host = mapping({
  install_dir: path,
  ipv6: bool,
  policy: mapping({ input: policy, forward: policy, output: policy }),
  loopback: bool,
  conntrack: mapping({ established: pick(['accept', false], ['drop', true]), invalid: pick(['drop', false], ['accept', true]) }),
  icmp: mapping({ echo_request: pick(['accept', 'drop'], ['reject']) }),
  deny: mapping({ source: address }),
  ssh: fc.oneof(pick([false], [true]), mapping({ port: ports, source: address, interface: iface, rate_limit: fc.oneof(pick([false], [true]), rateLimit) })),
  dns: fc.oneof(bool, address),
  ntp: fc.oneof(bool, address),
  dhcp: bool,
  metadata: pick(['root-only', 'allow', 'block'], ['root']),
  final: pick(['drop', 'reject'], ['accept']),
  logging: mapping({ dropped: bool, prefix, limit: rate, level }),
  conntrack_limits: mapping({
    max: pick([1024, 262144, 67108864], [1023, 67108865, 2.5, '262144']),
    tcp_timeout_established: pick([60, 300, 2592000], [59, 0]),
    udp_timeout: pick([1, 30, 3600], [0, 3601]),
    generic_timeout: pick([1, 600], [86401]),
  }),
  docker: mapping({ enabled: bool, bridge: iface, block_metadata: bool }),
  kubernetes: mapping({ enabled: bool }),
  sets: fc.oneof(
    fc.dictionary(fc.constantFrom('blocklist', 'a', 'Allow_2', '123', 'bad name', '_x', 'a'.repeat(25)), mapping({ file: pick(['lists/a.txt', 'x'], ['a b', '']) }), { maxKeys: 3 }),
    fc.constantFrom(...WRONG),
  ),
  persistence: mapping({ iptables_persistent: bool, pre_up: bool }),
  drift_check: mapping({
    schedule: pick(['*/5 * * * *', '@hourly', '0 3 * * 1-5'], ['bad', '* * * *']),
    ignore_chains: fc.oneof(fc.array(pick(['DOCKER*', 'f2b-?', 'X'], ['bad glob', '', 5]), { maxLength: 3 }), fc.constantFrom(...WRONG)),
    textfile_dir: pick(['/var/lib/node-exporter', false], ['relative', true]),
  }),
  allow_no_ssh: bool,
});

describe('the fast path of validation agrees with the zod schema', () => {
  it('knows exactly the keys the schema knows, at every level', () => {
    expect([...SERVICE_KEYS]).toEqual(objectKeysAt(serviceSchema, []));
    expect([...RULE_KEYS]).toEqual(objectKeysAt(serviceSchema, ['rules', 0]));
    expect([...HOST_KEYS]).toEqual(objectKeysAt(hostSchema, []));
    const at = (where: keyof typeof NESTED_KEYS): [Schema, PropertyKey[]] => {
      if (where.startsWith('rules[].')) return [serviceSchema, ['rules', 0, where.slice('rules[].'.length)]];
      return [hostSchema, where.split('.').map((p) => (p === '*' ? 'any-set-name' : p))];
    };
    for (const [where, keys] of Object.entries(NESTED_KEYS)) {
      const [schema, path] = at(where as keyof typeof NESTED_KEYS);
      expect([...keys], where).toEqual(objectKeysAt(schema, path));
    }
  });

  it('fills in the same defaults', () => {
    expect(agrees(fastValidateHost, hostSchema, {})).toBe(true);
    expect(agrees(fastValidateService, serviceSchema, {})).toBe(true);
  });

  it('accepts only what the schema accepts, and outputs what it outputs (services)', () => {
    let accepted = 0;
    fc.assert(fc.property(service, (data) => void (agrees(fastValidateService, serviceSchema, data) && accepted++)), { numRuns: 3000, seed: 7 });
    // Not a vacuous pass: a good share of the generated files take the fast path.
    expect(accepted).toBeGreaterThan(300);
  });

  it('accepts only what the schema accepts, and outputs what it outputs (gen-fw.yaml)', () => {
    let accepted = 0;
    fc.assert(fc.property(host, (data) => void (agrees(fastValidateHost, hostSchema, data) && accepted++)), { numRuns: 6000, seed: 7 });
    // A host file has some twenty keys, each a chance of a near miss: fewer take the fast path.
    expect(accepted).toBeGreaterThan(30);
  });

  it('agrees on every YAML file the tests carry, and takes the fast path for the golden scenarios', () => {
    const files = yamlFiles(join(repoRoot, 'test'));
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const r = parseYamlFile(file, readFileSync(file, 'utf8'));
      if (!r.ok) continue;
      const isHost = !relative(repoRoot, file).includes('/conf.d/');
      const ok = isHost ? agrees(fastValidateHost, hostSchema, r.parsed.data ?? {}) : agrees(fastValidateService, serviceSchema, r.parsed.data ?? {});
      if (file.includes('/scenarios/')) expect(ok, file).toBe(true);
    }
  });
});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return name.endsWith('.yaml') ? [p] : [];
  });
}
