import { describe, expect, it } from 'vitest';
import { parseYamlFile } from '../../src/parse/parse-yaml.js';
import { defaultHostInput } from '../../src/validate/default-host.js';
import { hostSchema, ruleSchema, serviceSchema } from '../../src/validate/schema.js';
import { mappingOf, type MappingNode } from '../../src/validate/spec.js';
import { validateHost, validateService } from '../../src/validate/validate-config.js';
import { jsonSchemas, type JsonSchema } from '../../src/validate/json-schema.js';

/**
 * The one validator (schema.ts, interpreted by spec.ts): the defaults an empty file means,
 * every key taken with a good value and refused with a bad one at its line and column,
 * unknown keys at every level, and every problem of a file reported, in key order.
 */

async function host(text: string) {
  const r = parseYamlFile('gen-fw.yaml', text);
  if (!r.ok) throw new Error(r.problems[0]!.message);
  return validateHost({ parsed: r.parsed, sha256: '' });
}

async function service(text: string) {
  const r = parseYamlFile('conf.d/svc.yaml', text);
  if (!r.ok) throw new Error(r.problems[0]!.message);
  return validateService({ name: 'svc', parsed: r.parsed, sha256: '' }, undefined);
}

const lines = (ps: { line?: number; col?: number; key?: string; message: string }[]) =>
  ps.map((p) => `${p.line}:${p.col} ${p.key ?? ''}: ${p.message}`);

describe('the defaults', () => {
  it('an empty gen-fw.yaml means exactly these settings', async () => {
    const { host: h, problems } = await host('');
    expect(problems).toEqual([]);
    expect(h).toEqual({
      install_dir: '/opt/sbin',
      ipv6: true,
      policy: { input: 'drop', forward: 'drop', output: 'drop' },
      loopback: true,
      conntrack: { established: 'accept', invalid: 'drop' },
      icmp: { echo_request: 'accept' },
      deny: {},
      ssh: {
        port: { from: 22, to: 22 },
        source: {
          addresses: [
            { family: 4, text: '0.0.0.0/0', any: true },
            { family: 6, text: '::/0', any: true },
          ],
          sets: [],
        },
        rate_limit: { hits: 4, seconds: 60 },
      },
      dns: true,
      ntp: true,
      dhcp: true,
      metadata: 'root-only',
      final: 'drop',
      mode: 'enforce',
      logging: { dropped: true, prefix: 'FW-DROP: ', limit: '5/minute', level: 4 },
      docker: { enabled: false, bridge: ['docker0', 'br-+'], block_metadata: true },
      kubernetes: { enabled: false },
      sets: {},
      persistence: { iptables_persistent: true, pre_up: true },
      drift_check: {
        schedule: '*/15 * * * *',
        ignore_chains: ['DOCKER*', 'KUBE-*', 'CNI-*', 'cali-*', 'f2b-*'],
        textfile_dir: '/var/lib/prometheus/node-exporter',
      },
      allow_no_ssh: false,
    });
    // No gen-fw.yaml at all means the same; so does init's written form of the defaults.
    expect((await validateHost(undefined)).host).toEqual(h);
    expect((await host(JSON.stringify(defaultHostInput()))).host).toEqual(h);
  });

  it('a rule fills in proto, action, log and audit; a service its rules', async () => {
    expect((await service('rules: [{ direction: in }]')).service?.rules).toEqual([
      { direction: 'in', proto: 'all', action: 'accept', log: false, audit: false },
    ]);
    expect((await service('')).service?.rules).toEqual([]);
  });

  it('gives each run its own values (a default is never shared between files)', async () => {
    const a = (await host('')).host!;
    const b = (await host('')).host!;
    expect(a.drift_check.ignore_chains).not.toBe(b.drift_check.ignore_chains);
    expect(a.docker.bridge).not.toBe(b.docker.bridge);
  });

  it('are what the JSON Schema shows', () => {
    const props = jsonSchemas().host.properties as Record<string, JsonSchema>;
    const d = defaultHostInput();
    for (const [k, v] of Object.entries(d)) {
      if (typeof v === 'object' && v && Object.keys(v).length === 0) continue;
      expect(props[k]!.default, k).toEqual(v);
    }
  });
});

/** Each key of a rule: a good value, a bad one, and (part of) the message for the bad one. */
const RULE_KEYS: [string, string, string, string][] = [
  ['direction', 'out', 'inbound', '"inbound" is not one of in, out, forward, docker, docker-out'],
  ['proto', 'tcp', 'tpc', '(did you mean "tcp"?)'],
  ['dport', '443', '0', '0 is not a port'],
  ['sport', '"1024:65535"', '"9:1"', 'runs backwards'],
  ['interface', 'eth0', '"eth 0"', 'is not an interface name'],
  ['source', '192.0.2.0/24', '192.0.2.1/24', 'has host bits set'],
  ['destination', '"@office"', '"@"', 'is not a set name'],
  ['action', 'drop', 'allow', '"allow" is not one of accept, drop, reject'],
  ['log', '{ prefix: "x: ", level: 3 }', '{ level: 9 }', 'rules[0].log.level: 9 is too big (at most 7)'],
  ['rate_limit', '{ hits: 3, seconds: 30 }', '{ hits: 3 }', 'rules[0].rate_limit.seconds: is required'],
  ['user', 'nobody', '"a b"', 'is not a user or group'],
  ['group', '100', '-1', 'is not a user or group'],
  ['audit', 'false', 'yes', 'expected true or false, got "yes"'],
  ['notrack', 'false', '1', 'expected true or false, got 1'],
  ['comment', '"a comment"', '"a\\nb"', 'comment must be one line'],
];

/** Each key of gen-fw.yaml, as above. */
const HOST_KEYS: [string, string, string, string][] = [
  ['install_dir', '/usr/local/sbin', 'opt/sbin', 'is not an absolute path'],
  ['ipv6', 'false', 'no', 'expected true or false, got "no"'],
  ['policy', '{ input: accept }', '{ input: reject }', 'policy.input: must be "accept" or "drop"'],
  ['loopback', 'false', '"true"', 'expected true or false'],
  ['conntrack', '{ invalid: false }', '{ established: drop }', 'conntrack.established: expected "accept" or false, got "drop"'],
  ['icmp', '{ echo_request: drop }', '{ echo_request: reject }', 'is not one of accept, drop'],
  ['deny', '{ source: [198.51.100.0/24] }', '{ source: [] }', 'an empty address list'],
  ['ssh', '{ port: 2222 }', 'true', 'ssh: expected false or a mapping (key: value), got true'],
  ['dns', '[192.0.2.53]', 'sometimes', '"sometimes" is not an IPv4/IPv6 address or CIDR'],
  ['ntp', 'false', '{}', '{} is not an address or CIDR'],
  ['dhcp', 'false', '0', 'expected true or false, got 0'],
  ['metadata', 'block', 'deny', 'is not one of root-only, allow, block'],
  ['final', 'reject', 'accept', 'is not one of drop, reject'],
  ['mode', 'audit', 'bogus', '"bogus" is not one of enforce, audit'],
  ['logging', '{ level: 6 }', '{ prefix: "" }', 'log prefix must not be empty'],
  ['docker', '{ enabled: true, bridge: docker0 }', '{ bridge: "+" }', 'matches every interface'],
  ['conntrack_limits', '{ max: 262144 }', '{ max: 100 }', 'conntrack_limits.max: 100 is too small (at least 1024)'],
  ['kubernetes', '{ enabled: true }', '{ enabled: 1 }', 'expected true or false, got 1'],
  ['sets', '{ office: { file: lists/office.txt } }', '{ "bad name": { file: x } }', 'set names are letters, digits'],
  ['persistence', '{ pre_up: false }', '{ pre_up: null }', 'expected true or false, got an empty value'],
  ['drift_check', '{ ignore_chains: ["f2b-*"], textfile_dir: false }', '{ schedule: hourly }', 'is not a cron schedule'],
  ['allow_no_ssh', 'true', '[]', 'expected true or false, got a list'],
];

const keysOf = (m: MappingNode<never>) => m.keys;

describe('every key', () => {
  it('of the definition is in these tables (a key added to schema.ts needs a line here)', () => {
    expect(RULE_KEYS.map(([k]) => k)).toEqual(keysOf(ruleSchema as never));
    expect(HOST_KEYS.map(([k]) => k)).toEqual(keysOf(hostSchema as never));
    expect(keysOf(mappingOf(serviceSchema)! as never)).toEqual(['description', 'rules']);
  });

  it.each(RULE_KEYS)('rules[].%s: taken, and refused at its line and column', async (key, good, bad, message) => {
    // Lines 3 and 4 are the rule's other keys; line 5 is the key under test.
    const base = { direction: 'in', proto: 'tcp' } as Record<string, string>;
    delete base[key];
    const others = Object.entries({ ...base, description: 'x' })
      .slice(0, 2)
      .map(([k, v]) => (k === 'description' ? 'comment: x' : `${k}: ${v}`));
    const rule = (v: string) => `description: test\nrules:\n  - ${others[0]}\n    ${others[1]}\n    ${key}: ${v}\n`;
    expect((await service(rule(good))).problems).toEqual([]);
    const refused = lines((await service(rule(bad))).problems);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^5:\d+ rules\[0\]\./);
    expect(refused[0]).toContain(message);
  });

  it.each(HOST_KEYS)('%s: taken, and refused at its line and column', async (key, good, bad, message) => {
    const file = (v: string) =>
      `ipv6: true\n${key === 'ipv6' ? 'loopback' : key}: ${key === 'ipv6' ? 'true' : v}\n${key === 'ipv6' ? `ipv6x: 1\n` : ''}`;
    if (key === 'ipv6') {
      expect((await host(`ipv6: ${good}\n`)).problems).toEqual([]);
      expect(lines((await host(`loopback: true\nipv6: ${bad}\n`)).problems)).toEqual([`2:7 ipv6: ${message}`]);
      return;
    }
    expect((await host(file(good))).problems).toEqual([]);
    const refused = lines((await host(file(bad))).problems);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(new RegExp(`^2:\\d+ ${key}`));
    expect(refused[0]).toContain(message);
  });
});

describe('problems', () => {
  it('unknown keys at every level, at the key, with "did you mean" or the known keys', async () => {
    expect(
      lines((await host('polcy: {}\nssh:\n  prot: 22\n  rate_limit: { hits: 3, secs: 9 }\nsets: { a: { fil: x } }\n')).problems),
    ).toEqual([
      // Inside a mapping, its keys' problems in the definition's order, then its unknown keys.
      '4:15 ssh.rate_limit.seconds: is required',
      '4:26 ssh.rate_limit.secs: unknown key (known keys: hits, seconds)',
      '3:3 ssh.prot: unknown key (did you mean "port"?)',
      '5:12 sets.a.file: is required',
      '5:14 sets.a.fil: unknown key (did you mean "file"?)',
      '1:1 polcy: unknown key (did you mean "policy"?)',
    ]);
  });

  it('every problem of a file, in the order of the keys, each at its own position', async () => {
    const text = 'rules:\n  - direction: inn\n    dport: 70000\n    coment: x\n  - "in tcp 80"\n  - { direction: out, log: maybe }\n';
    expect(lines((await service(text)).problems)).toEqual([
      '2:16 rules[0].direction: "inn" is not one of in, out, forward, docker, docker-out (did you mean "in"?)',
      '3:12 rules[0].dport: 70000 is not a port (1-65535)',
      '4:5 rules[0].coment: unknown key (did you mean "comment"?)',
      '5:5 rules[1]: expected a mapping (key: value), got "in tcp 80"',
      '6:28 rules[2].log: expected true or false or a mapping (key: value), got "maybe"',
    ]);
  });

  it('a file that is not a mapping, and values of the wrong kind', async () => {
    expect(lines((await service('- a\n')).problems)).toEqual(['1:1 : expected a mapping (key: value), got a list']);
    expect(lines((await host('sets: [a]\nlogging: { level: 2.5 }\nconntrack_limits: { max: .inf }\n')).problems)).toEqual([
      '2:19 logging.level: expected a whole number, got 2.5',
      '3:26 conntrack_limits.max: expected a number, got Infinity',
      '1:7 sets: expected a mapping (key: value), got a list',
    ]);
  });
});
