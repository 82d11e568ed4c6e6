import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';

/**
 * Projects for the injection property: a valid host file and two valid services, with
 * one or two fields replaced by hostile or arbitrary strings. Starting from a valid
 * project keeps enough renders accepted that their scripts get run.
 */

/** Strings that try to break out of shell quoting; CANARY is replaced by a path to watch. */
const TEMPLATES = [
  '$(touch CANARY)',
  '`touch CANARY`',
  "'; touch CANARY; '",
  '"; touch CANARY; "',
  '\ntouch CANARY\n',
  ';touch CANARY',
  '|touch CANARY',
  '&&touch CANARY',
  '||touch CANARY #',
  '& touch CANARY &',
  "'$(touch CANARY)'",
  '"$(touch CANARY)"',
  '\\"$(touch CANARY)\\"',
  "\\'$(touch CANARY)",
  "x'\\''$(touch CANARY)",
  '$IFS;touch${IFS}CANARY',
  '${x:-$(touch CANARY)}',
  '$((0))$(touch CANARY)',
  '<(touch CANARY)',
  '>(touch CANARY)',
  '{touch,CANARY}',
  '\\\ntouch CANARY',
  '\r\ntouch CANARY',
  '\u2028touch CANARY',
  '" -j ACCEPT -m comment --comment "',
  '\\" -j ACCEPT \\"',
  '-j ACCEPT',
  '--comment',
  '%s%s%n%x',
  '%d',
  '\\',
  '\\\\',
  '"',
  "'",
  '`',
  '#',
  '*',
  '?',
  '~root',
  '!!',
  '$0',
  '$@',
  '$*',
  '$$',
  '-',
  '--',
  '',
  ' ',
  'a b',
  '\t',
  '\u0000',
  '\u001b[2J',
  '\u0085',
  '\u009b31m',
  '\u00a0',
  '\u202e',
  '\uff04(touch CANARY)',
  'é',
  'x'.repeat(300),
  '__proto__',
  'constructor',
  'toString',
];

const META = [...'$`\'"\\;|&(){}<>*?[]~!#% \t\n-=,./:@+^az09'];

export function hostileStrings(canary: string): string[] {
  return TEMPLATES.map((t) => t.replaceAll('CANARY', canary));
}

function anyText(canary: string): fc.Arbitrary<string> {
  const hostile = hostileStrings(canary);
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...hostile) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...hostile), fc.constantFrom(...hostile)).map(([a, b]) => a + b) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...META), maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  );
}

/** A valid value, hostile text, or the two glued together. */
function around(valid: fc.Arbitrary<string>, text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: fc.tuple(valid, text).map(([v, t]) => v + t) },
    { weight: 1, arbitrary: fc.tuple(text, valid).map(([t, v]) => t + v) },
  );
}

type Doc = Record<string, unknown>;

/** Set a key even when it is "__proto__": the YAML file must carry it as written. */
function setKey(doc: Doc, key: string, value: unknown): void {
  Object.defineProperty(doc, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface FuzzProject {
  host: Doc;
  services: { name: string; body: Doc | string }[];
  /** Extra files by path relative to the project (set lists). */
  files: Record<string, string>;
  /** What was fuzzed, for the log. */
  mutations: { field: string; value: string }[];
}

interface Mutation {
  field: string;
  /** Free text that reaches scripts as it is: fuzzed more often. */
  free?: true;
  value: (text: fc.Arbitrary<string>) => fc.Arbitrary<string>;
  apply(p: FuzzProject, v: string): void;
}

const rule0 = (p: FuzzProject) => ((p.services[0]!.body as Doc).rules as Doc[])[0]!;
const rule1 = (p: FuzzProject) => ((p.services[1]!.body as Doc).rules as Doc[])[0]!;
const valid = {
  iface: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,14}\+?$/),
  // Issue 19: IPv4 inside IPv6 (mapped, compatible, NAT64) is refused or rendered as written.
  address: fc.constantFrom(
    '10.0.0.1',
    '192.0.2.0/24',
    '2001:db8::/32',
    '::/0',
    '0.0.0.0/0',
    'fe80::1',
    '198.51.100.7',
    '::1.2.3.0/120',
    '::ffff:1.2.3.0/120',
    '64:ff9b::192.0.2.1',
  ),
  port: fc.constantFrom('22', '80:90', '1', '65535', '8080'),
  absPath: fc.stringMatching(/^\/[A-Za-z0-9_.-]{1,12}(\/[A-Za-z0-9_.-]{1,12}){0,2}$/),
  relPath: fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}(\/[A-Za-z0-9_.-]{1,12}){0,2}$/),
  service: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,21}$/),
  setName: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/),
  glob: fc.stringMatching(/^[A-Za-z0-9_.*?-]{1,28}$/),
  // Issue 19: out-of-range cron fields and steps, and rates beyond xt_limit's, must be refused at render.
  schedule: fc.constantFrom('*/15 * * * *', '@hourly', '0 3 * * 1-5', '99 99 99 99 99', '*/0 * * * *', '0 0 31 dec sun', '@reboot'),
  limit: fc.constantFrom('5/min', '10/second', '100/hour', '10000/s', '10001/s', '999999/s', '1/day'),
  proto: fc.constantFrom('tcp', 'udp', 'all'),
  direction: fc.constantFrom('in', 'out', 'forward'),
  action: fc.constantFrom('accept', 'drop', 'reject'),
};

function addSet(p: FuzzProject, name: string, file = 'lists/extra.txt'): void {
  setKey(p.host.sets as Doc, name, { file });
  p.files[file] ??= '192.0.2.0/24\n2001:db8::/32\n';
}

const MUTATIONS: Mutation[] = [
  { field: 'install_dir', value: (t) => around(valid.absPath, t), apply: (p, v) => void (p.host.install_dir = v) },
  { field: 'logging.prefix', free: true, value: (t) => t, apply: (p, v) => void ((p.host.logging as Doc).prefix = v) },
  { field: 'logging.limit', value: (t) => around(valid.limit, t), apply: (p, v) => void ((p.host.logging as Doc).limit = v) },
  { field: 'ssh.interface', value: (t) => around(valid.iface, t), apply: (p, v) => void ((p.host.ssh as Doc).interface = v) },
  { field: 'ssh.source', value: (t) => around(valid.address, t), apply: (p, v) => void ((p.host.ssh as Doc).source = [v]) },
  { field: 'ssh.port', value: (t) => around(valid.port, t), apply: (p, v) => void ((p.host.ssh as Doc).port = v) },
  { field: 'deny.source', value: (t) => around(valid.address, t), apply: (p, v) => void (p.host.deny = { source: v }) },
  { field: 'dns', value: (t) => around(valid.address, t), apply: (p, v) => void (p.host.dns = [v]) },
  {
    field: 'docker.bridge',
    value: (t) => around(valid.iface, t),
    apply: (p, v) => void (p.host.docker = { enabled: true, bridge: v }),
  },
  {
    field: 'sets.<name>',
    value: (t) => around(valid.setName, t),
    apply: (p, v) => {
      addSet(p, v);
      p.host.deny = { source: `@${v}` };
    },
  },
  {
    field: 'sets.blocklist.file',
    value: (t) => around(valid.relPath, t),
    apply: (p, v) => {
      addSet(p, 'blocklist', v);
      p.host.deny = { source: '@blocklist' };
    },
  },
  {
    field: 'set file line',
    value: (t) => around(valid.address, t),
    apply: (p, v) => {
      addSet(p, 'blocklist', 'lists/blocklist.txt');
      p.files['lists/blocklist.txt'] = `# a list\n192.0.2.0/24\n${v}\n`;
      p.host.deny = { source: '@blocklist' };
    },
  },
  {
    field: 'drift_check.textfile_dir',
    value: (t) => around(valid.absPath, t),
    apply: (p, v) => void ((p.host.drift_check as Doc).textfile_dir = v),
  },
  {
    field: 'drift_check.ignore_chains',
    value: (t) => around(valid.glob, t),
    apply: (p, v) => void ((p.host.drift_check as Doc).ignore_chains = ['DOCKER*', v]),
  },
  {
    field: 'drift_check.schedule',
    value: (t) => around(valid.schedule, t),
    apply: (p, v) => void ((p.host.drift_check as Doc).schedule = v),
  },
  { field: 'gen-fw.yaml key', value: (t) => t, apply: (p, v) => setKey(p.host, v, true) },
  { field: 'logging key', value: (t) => t, apply: (p, v) => setKey(p.host.logging as Doc, v, 1) },
  { field: 'service file name', value: (t) => around(valid.service, t), apply: (p, v) => void (p.services[0]!.name = v) },
  { field: 'description', free: true, value: (t) => t, apply: (p, v) => void ((p.services[0]!.body as Doc).description = v) },
  {
    field: 'description (raw YAML)',
    free: true,
    value: (t) => t,
    apply: (p, v) =>
      void p.services.push({ name: 'raw', body: `description: ${v}\nrules:\n  - { direction: out, proto: udp, dport: 53 }\n` }),
  },
  { field: 'rules[0].comment', free: true, value: (t) => t, apply: (p, v) => void (rule0(p).comment = v) },
  { field: 'rules[0].log.prefix', free: true, value: (t) => t, apply: (p, v) => void (rule0(p).log = { prefix: v }) },
  { field: 'rules[0].log.limit', value: (t) => around(valid.limit, t), apply: (p, v) => void (rule0(p).log = { limit: v }) },
  { field: 'rules[0].interface', value: (t) => around(valid.iface, t), apply: (p, v) => void (rule0(p).interface = v) },
  { field: 'rules[0].source', value: (t) => around(valid.address, t), apply: (p, v) => void (rule0(p).source = v) },
  {
    field: 'rules[0].destination',
    value: (t) => around(valid.address, t),
    apply: (p, v) => void (rule1(p).destination = [v, '192.0.2.53']),
  },
  { field: 'rules[0].dport', value: (t) => around(valid.port, t), apply: (p, v) => void (rule0(p).dport = v) },
  { field: 'rules[0].sport', value: (t) => around(valid.port, t), apply: (p, v) => void (rule1(p).sport = [v]) },
  { field: 'rules[0].proto', value: (t) => around(valid.proto, t), apply: (p, v) => void (rule1(p).proto = v) },
  { field: 'rules[0].direction', value: (t) => around(valid.direction, t), apply: (p, v) => void (rule0(p).direction = v) },
  { field: 'rules[0].action', value: (t) => around(valid.action, t), apply: (p, v) => void (rule0(p).action = v) },
  {
    field: 'rules[0].source @set',
    value: (t) => around(valid.setName, t),
    apply: (p, v) => {
      addSet(p, v);
      rule0(p).source = `@${v}`;
    },
  },
  { field: 'service key', value: (t) => t, apply: (p, v) => setKey(p.services[0]!.body as Doc, v, 'x') },
  { field: 'rule key', value: (t) => t, apply: (p, v) => setKey(rule0(p), v, 'x') },
];

function baseProject(): FuzzProject {
  return {
    host: {
      install_dir: '/opt/sbin',
      logging: { dropped: true, prefix: 'FW-DROP: ' },
      ssh: { port: 22, source: ['0.0.0.0/0', '::/0'] },
      sets: {},
      drift_check: { textfile_dir: '/var/lib/prometheus/node-exporter' },
    },
    services: [
      {
        name: 'web',
        body: {
          description: 'Public web server',
          rules: [{ direction: 'in', proto: 'tcp', dport: [80, 443], source: '0.0.0.0/0', comment: 'http', log: true, interface: 'eth0' }],
        },
      },
      { name: 'resolver', body: { rules: [{ direction: 'out', proto: 'udp', dport: 53, destination: ['192.0.2.53'] }] } },
    ],
    files: {},
    mutations: [],
  };
}

/** Projects with one or two fields fuzzed; `canary` is the path hostile strings try to create. */
export function fuzzProject(canary: string): fc.Arbitrary<FuzzProject> {
  const text = anyText(canary);
  const mutation = fc.oneof(...MUTATIONS.map((m) => ({ weight: m.free ? 5 : 1, arbitrary: m.value(text).map((value) => ({ m, value })) })));
  return fc.array(mutation, { minLength: 1, maxLength: 2 }).map((chosen) => {
    const p = baseProject();
    for (const { m, value } of chosen) {
      m.apply(p, value);
      p.mutations.push({ field: m.field, value });
    }
    if (Object.keys(p.host.sets as Doc).length === 0) delete p.host.sets;
    return p;
  });
}

/** A file name the filesystem can hold, as close to the fuzzed one as it allows. */
function fileName(name: string): string {
  let safe = name.replace(/[/\0]/g, '_');
  while (Buffer.byteLength(safe) > 200) safe = safe.slice(0, -1);
  return `${safe}.yaml`;
}

/** Write a project: gen-fw.yaml, conf.d/, and extra files that stay inside it. */
export function writeProject(dir: string, p: FuzzProject): void {
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'gen-fw.yaml'), stringify(p.host, { lineWidth: 0 }));
  const used = new Set<string>();
  for (const s of p.services) {
    let name = fileName(s.name);
    for (let n = 2; used.has(name); n++) name = fileName(`${s.name}-${n}`);
    used.add(name);
    const text = typeof s.body === 'string' ? s.body : stringify(s.body, { lineWidth: 0 });
    writeFileSync(join(dir, 'conf.d', name), text);
  }
  for (const [path, text] of Object.entries(p.files)) {
    const target = resolve(dir, path);
    const rel = relative(dir, target);
    // A hostile path that leaves the project, or collides with it, is simply not created.
    if (rel.startsWith('..') || rel === '' || rel === 'gen-fw.yaml' || rel.startsWith('conf.d')) continue;
    try {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
    } catch {
      // not creatable (a path through a file, a name too long): the render must say so.
    }
  }
}
