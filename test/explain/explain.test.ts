import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadExplainer } from '../../src/cli/load-model.js';
import { matchRule } from '../../src/explain/match-rule.js';
import { makeProject, repoRoot, runCli } from '../helpers/render.js';

// A project with sets, a deny list, a rate limit, final: reject and more than eight inbound
// services (so the port dispatch is in use): test/explain/project.
const project = fileURLToPath(new URL('./project', import.meta.url));
const golden = fileURLToPath(new URL('./golden', import.meta.url));

const scenario = (name: string) => join(repoRoot, 'test/scenarios', name);

// dir: a project of test/scenarios (default: test/explain/project).
const CASES: Record<string, { args: string[]; exit: number; dir?: string }> = {
  'office-to-postgres': { args: ['--direction', 'in', '--proto', 'tcp', '--source', '198.51.100.7', '--dport', '5432'], exit: 0 },
  'world-to-postgres': { args: ['--direction', 'in', '--proto', 'tcp', '--source', '203.0.113.9', '--dport', '5432'], exit: 1 },
  'blocklisted-ssh-v6': { args: ['--direction', 'in', '--proto', 'tcp', '--source', '2001:db8:66::1', '--dport', '22'], exit: 1 },
  'dispatched-udp': { args: ['--direction', 'in', '--proto', 'udp', '--source', '192.0.2.9', '--dport', '7005'], exit: 0 },
  'rate-limited-api': { args: ['--direction', 'in', '--proto', 'tcp', '--dport', '8443'], exit: 0 },
  'unknown-port-rejected': { args: ['--direction', 'in', '--proto', 'udp', '--dport', '9999'], exit: 1 },
  'metadata-as-nobody': {
    args: ['--direction', 'out', '--proto', 'tcp', '--destination', '169.254.169.254', '--dport', '80', '--user', '65534'],
    exit: 1,
  },
  'established-reply': { args: ['--direction', 'in', '--proto', 'tcp', '--dport', '5432', '--state', 'established'], exit: 0 },
  // notrack: the raw table marks it untracked; its reply (not a SYN) leaves by GFW-OUTPUT-UNTRACKED.
  'notrack-zone-transfer': {
    args: ['--direction', 'in', '--proto', 'tcp', '--source', '198.51.100.7', '--dport', '53'],
    exit: 0,
    dir: scenario('notrack'),
  },
  'notrack-reply': {
    args: [
      '--direction',
      'out',
      '--proto',
      'tcp',
      '--sport',
      '53',
      '--destination',
      '198.51.100.7',
      '--dport',
      '40000',
      '--state',
      'established',
    ],
    exit: 0,
    dir: scenario('notrack'),
  },
  // The worked example of docs/docker-and-kubernetes.md: the sandbox network may not reach the private ranges; docker0 may.
  'docker-out-sandbox-rejected': {
    args: ['--direction', 'docker-out', '--proto', 'tcp', '--interface', 'docker-sandbox', '--destination', '10.0.0.5', '--dport', '443'],
    exit: 1,
    dir: scenario('docker-sandbox'),
  },
  'docker-out-docker0-returned': {
    args: ['--direction', 'docker-out', '--proto', 'tcp', '--destination', '10.0.0.5', '--dport', '443'],
    exit: 0,
    dir: scenario('docker-sandbox'),
  },
};

describe('gen-fw explain: the way a packet goes, chain by chain (golden text)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const r = await runCli(['explain', ...c.args], c.dir ?? project);
      expect(r.stderr).toBe('');
      const file = join(golden, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, r.stdout + '\n');
      expect(r.stdout + '\n').toBe(readFileSync(file, 'utf8'));
      expect(r.exitCode).toBe(c.exit);
    });
  }

  it('answers in JSON with the verdict, the deciding rule and its origin', async () => {
    const r = await runCli(['explain', '--format', 'json', '--direction', 'in', '--proto', 'tcp', '--dport', '8443'], project);
    const j = JSON.parse(r.stdout) as { verdict: string; decided: { origin: string }; rate_limit: unknown };
    expect(j.verdict).toBe('accept');
    expect(j.decided.origin).toBe('conf.d/api.yaml:2:5 rules[0]');
    expect(j.rate_limit).toEqual({ hits: 3, seconds: 30 });
  });
});

describe('gen-fw explain: an impossible packet is bad input (exit 2, the flag named)', () => {
  const bad: [string[], RegExp][] = [
    [['--direction', 'in', '--proto', 'tcp', '--dport', '99999'], /^error: command line --dport: "99999" is not a port/m],
    [['--direction', 'in', '--proto', 'icmp', '--dport', '22'], /--dport: ports need proto tcp or udp \(proto is icmp\)/],
    [
      ['--direction', 'in', '--proto', 'tcp', '--dport', '22', '--source', '2001:db8::5', '--destination', '192.0.2.1'],
      /--destination: 192\.0\.2\.1 is IPv4 but the source 2001:db8::5 is IPv6/,
    ],
    [
      ['--direction', 'in', '--proto', 'tcp', '--dport', '22', '--interface', 'lo', '--source', '192.0.2.5'],
      /--source: 192\.0\.2\.5 cannot cross lo/,
    ],
    [['--direction', 'in', '--proto', 'icmp', '--source', '2001:db8::5'], /--proto: icmp is IPv4/],
    [['--direction', 'sideways', '--proto', 'tcp', '--dport', '22'], /--direction: "sideways" is not a direction/],
    [['--direction', 'in', '--proto', 'tcp', '--dport', '22', '--user', '0'], /--user: only a packet this host sends/],
    [['--direction', 'docker', '--proto', 'tcp', '--dport', '80'], /--direction: direction docker: docker is not enabled/],
    [['--direction', 'docker-out', '--proto', 'tcp', '--dport', '80'], /--direction: direction docker-out: docker is not enabled/],
    [['--direction', 'in', '--proto', 'tcp'], /--dport: a tcp packet needs a destination port/],
  ];
  for (const [args, message] of bad) {
    it(args.join(' '), async () => {
      const r = await runCli(['explain', ...args], project);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js/);
      expect(r.stdout).toBe('');
      expect(r.exitCode).toBe(2);
    });
  }
});

describe("gen-fw verify: expectations, the firewall's own unit tests", () => {
  it("holds for this repository's own conf.d (expectations.yaml at the root)", async () => {
    const r = await runCli(['verify', 'expectations.yaml'], repoRoot);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^(\d+) of \1 expectations hold$/m);
    expect(r.exitCode).toBe(0);
  });

  it("says which expectation does not hold, with explain's answer, and exits 1", async () => {
    const p = makeProject({
      services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 443 }\n' },
      files: {
        'x.yaml':
          '- { packet: { direction: in, proto: tcp, dport: 443 }, expect: accept }\n- { packet: { direction: in, proto: tcp, dport: 80 }, expect: accept }\n',
      },
    });
    try {
      const r = await runCli(['verify', 'x.yaml'], p.dir);
      expect(r.stdout).toContain(
        'x.yaml:1: held: expect accept: in tcp 192.0.2.2:40000 -> 192.0.2.1:443 on eth0, new: accept by conf.d/web.yaml:2:5 rules[0]',
      );
      expect(r.stdout).toContain(
        'x.yaml:2: does not hold: expect accept: in tcp 192.0.2.2:40000 -> 192.0.2.1:80 on eth0, new: drop by base rule "final drop"',
      );
      expect(r.stdout).toContain('1 of 2 expectations hold');
      expect(r.exitCode).toBe(1);
    } finally {
      p.cleanup();
    }
  });

  it('refuses a malformed file with every problem located (exit 2)', async () => {
    const p = makeProject({
      files: {
        'bad.yaml': [
          '- { packet: { direction: in, proto: icmp, dport: 22 }, expect: accept }',
          '- { packet: { direction: in, proto: tcp, dport: 99999, sourc: 192.0.2.4 }, expect: allow }',
          '- packet: { direction: out, proto: udp, dport: 53 }',
          '  expct: drop',
          '',
        ].join('\n'),
        'notalist.yaml': 'packet: { direction: in }\n',
        'syntax.yaml': '- { packet: { direction: in\n',
      },
    });
    try {
      const r = await runCli(['verify', 'bad.yaml'], p.dir);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n');
      expect(lines).toContain('error: bad.yaml:1:50 [0].packet.dport: ports need proto tcp or udp (proto is icmp)');
      expect(lines).toContain('error: bad.yaml:2:49 [1].packet.dport: 99999 is not a port (a number 1-65535)');
      expect(lines).toContain('error: bad.yaml:2:56 [1].packet.sourc: unknown key (did you mean "source"?)');
      expect(lines).toContain('error: bad.yaml:2:84 [1].expect: "allow" is not one of accept, drop, reject');
      expect(lines).toContain('error: bad.yaml:4:3 [2].expct: unknown key (did you mean "expect"?)');
      expect(lines).toContain('error: bad.yaml:3:3 [2].expect: is required (accept, drop or reject)');
      const notList = await runCli(['verify', 'notalist.yaml'], p.dir);
      expect(notList.exitCode).toBe(2);
      expect(notList.stderr).toMatch(/^error: notalist\.yaml:1:1: expected a list of \{ packet/m);
      const syntax = await runCli(['verify', 'syntax.yaml'], p.dir);
      expect(syntax.exitCode).toBe(2);
      expect(syntax.stderr).toMatch(/^error: syntax\.yaml:\d+:\d+: YAML syntax error/m);
      const missing = await runCli(['verify', 'nope.yaml'], p.dir);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toMatch(/^error: nope\.yaml: no such file/m);
    } finally {
      p.cleanup();
    }
  });
});

describe('gen-fw explain: audit', () => {
  const services = {
    'web.yaml':
      'rules:\n  - { direction: in, proto: tcp, dport: 8080, source: 192.0.2.9, action: drop, audit: true }\n  - { direction: in, proto: tcp, dport: 8080 }\n',
  };

  it('an audit: true rule logs and passes the packet on to the next rule', async () => {
    const p = makeProject({ services });
    try {
      const r = await runCli(['explain', '--direction', 'in', '--proto', 'tcp', '--source', '192.0.2.9', '--dport', '8080'], p.dir);
      expect(r.stdout).toMatch(/GFW-I-web #1: audit: counts what it would drop, goes on — conf\.d\/web\.yaml:2:5 rules\[0\]/);
      expect(r.stdout).toMatch(/GFW-I-web #2: audit: logs what it would drop, goes on/);
      expect(r.stdout).toMatch(/^verdict: accept, decided by conf\.d\/web\.yaml:3:5 rules\[1\]$/m);
      expect(r.exitCode).toBe(0);
    } finally {
      p.cleanup();
    }
  });

  it('mode audit accepts what enforce drops, with reason "audit"', async () => {
    const p = makeProject({ host: 'mode: audit\n', services });
    try {
      const r = await runCli(['explain', '--format', 'json', '--direction', 'in', '--proto', 'tcp', '--dport', '9999'], p.dir);
      const j = JSON.parse(r.stdout) as { verdict: string; reason?: string; decided: { origin: string } };
      expect(j).toMatchObject({ verdict: 'accept', reason: 'audit', decided: { origin: 'base rule "final (mode audit)"' } });
      const enforce = await runCli(['explain', '--direction', 'in', '--proto', 'tcp', '--dport', '9999'], p.dir);
      expect(enforce.stdout).toMatch(/^verdict: accept \(audit: mode audit logs it and lets it pass; enforce would drop or reject it\)/m);
    } finally {
      p.cleanup();
    }
  });
});

describe('gen-fw explain: mode audit on the forward path', () => {
  it("a docker-out reject is logged and passed on (GFW-AUDIT-PASS): Docker's own chains still decide", async () => {
    const p = makeProject({
      host: 'mode: audit\ndocker: { enabled: true }\n',
      services: { 'app.yaml': 'rules:\n  - { direction: docker-out, proto: tcp, destination: 10.0.0.0/8, action: reject }\n' },
    });
    try {
      const r = await runCli(
        ['explain', '--format', 'json', '--direction', 'docker-out', '--proto', 'tcp', '--destination', '10.0.0.5', '--dport', '443'],
        p.dir,
      );
      const j = JSON.parse(r.stdout) as {
        verdict: string;
        reason?: string;
        decided: { origin: string };
        steps: { chain: string; effect: string }[];
      };
      expect(j.steps).toContainEqual(
        expect.objectContaining({
          chain: 'GFW-DOCKER-OUT',
          effect: 'jump to GFW-AUDIT-PASS (mode audit: logs what enforce would drop, goes on)',
        }),
      );
      expect(j.steps).toContainEqual(expect.objectContaining({ chain: 'GFW-AUDIT-PASS', effect: 'RETURN' }));
      // Not accepted by gen-fw (that would skip Docker's isolation): Docker's chains decide.
      expect(j.decided.origin).toBe("Docker's own chains");
      expect(j.reason).toBeUndefined();
      expect(j.steps.some((s) => s.chain === 'GFW-AUDIT')).toBe(false);
    } finally {
      p.cleanup();
    }
  });
});

describe('gen-fw explain: Docker (docker.enabled: FORWARD jumps to DOCKER-USER only)', () => {
  const dir = scenario('docker-sandbox');

  it('docker-out: a bridge that is not one of docker.bridge is bad input (exit 2, --interface named)', async () => {
    const r = await runCli(['explain', '--direction', 'docker-out', '--proto', 'tcp', '--interface', 'eth0', '--dport', '443'], dir);
    expect(r.stderr).toMatch(
      /^error: command line --interface: direction docker-out: eth0 is not a Docker bridge \(docker\.bridge: docker0, br-\+, docker-sandbox\)/m,
    );
    expect(r.exitCode).toBe(2);
  });

  it('docker-out on a wildcard bridge (br-+): the docker-out rules of every bridge, then Docker accepts', async () => {
    const r = await runCli(
      [
        'explain',
        '--format',
        'json',
        '--direction',
        'docker-out',
        '--proto',
        'udp',
        '--interface',
        'br-1a2b',
        '--destination',
        '192.168.1.1',
        '--dport',
        '53',
      ],
      dir,
    );
    const j = JSON.parse(r.stdout) as { verdict: string; decided: { origin: string; effect: string } };
    expect(j.verdict).toBe('accept');
    expect(j.decided.origin).toBe("Docker's own chains");
    expect(j.decided.effect).toContain('-i br-1a2b ! -o br-1a2b -j ACCEPT');
  });

  it("forward starts in DOCKER-USER and, off Docker's bridges, ends in FORWARD's policy", async () => {
    const r = await runCli(['explain', '--direction', 'forward', '--proto', 'tcp', '--dport', '443'], dir);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^ {2}FORWARD #1: jump to DOCKER-USER/);
    expect(r.stdout).toMatch(/eth0 is not one of docker\.bridge\): on to FORWARD's policy/);
    expect(r.stdout).toMatch(/^verdict: drop, decided by policy of FORWARD$/m);
    expect(r.exitCode).toBe(1);
  });

  it('docker (a published port) starts in FORWARD and is accepted by a docker rule', async () => {
    const r = await runCli(['explain', '--direction', 'docker', '--proto', 'tcp', '--source', '203.0.113.4', '--dport', '8080'], dir);
    expect(r.stdout).toMatch(/^ {2}FORWARD #1: jump to DOCKER-USER/m);
    expect(r.stdout).toMatch(/^verdict: accept, decided by conf\.d\/web\.yaml:3:5 rules\[0\]$/m);
    const other = await runCli(['explain', '--direction', 'docker', '--proto', 'tcp', '--source', '198.51.100.4', '--dport', '8080'], dir);
    expect(other.stdout).toMatch(/^verdict: drop, decided by base rule "docker published, not allowed"$/m);
  });
});

describe('gen-fw explain: notrack', () => {
  it('a TCP SYN from the notrack port is not a reply: GFW-OUTPUT-UNTRACKED lets it go on to the final drop', async () => {
    const r = await runCli(
      [
        'explain',
        '--format',
        'json',
        '--direction',
        'out',
        '--proto',
        'tcp',
        '--sport',
        '53',
        '--destination',
        '198.51.100.7',
        '--dport',
        '40000',
      ],
      scenario('notrack'),
    );
    const j = JSON.parse(r.stdout) as {
      verdict: string;
      untracked?: boolean;
      steps: { table?: string; chain: string }[];
      decided: { origin: string };
    };
    expect(j).toMatchObject({ verdict: 'drop', untracked: true, decided: { origin: 'base rule "final drop"' } });
    expect(j.steps[1]).toMatchObject({ table: 'raw', chain: 'GFW-OUTPUT' });
    expect(j.steps.map((s) => s.chain)).toContain('GFW-OUTPUT-UNTRACKED');
  });

  it('a reply from the notrack port meets the metadata block before the untracked way out', async () => {
    const r = await runCli(
      [
        'explain',
        '--format',
        'json',
        '--direction',
        'out',
        '--proto',
        'udp',
        '--sport',
        '53',
        '--destination',
        '169.254.169.254',
        '--dport',
        '80',
        '--user',
        '65534',
      ],
      scenario('notrack'),
    );
    const j = JSON.parse(r.stdout) as { verdict: string; untracked?: boolean; steps: { chain: string }[]; decided: { origin: string } };
    expect(j).toMatchObject({ verdict: 'drop', untracked: true, decided: { origin: 'base rule "metadata for others"' } });
    expect(j.steps.map((s) => s.chain)).not.toContain('GFW-OUTPUT-UNTRACKED');
  });

  it('a packet no notrack rule marks walks the filter table alone, with --state as given', async () => {
    const r = await runCli(
      ['explain', '--direction', 'in', '--proto', 'tcp', '--source', '203.0.113.9', '--dport', '53'],
      scenario('notrack'),
    );
    expect(r.stdout).not.toMatch(/raw|UNTRACKED/);
    expect(r.stdout).toMatch(/^verdict: drop, decided by base rule "final drop"$/m);
  });
});

describe('gen-fw explain: every argument the model writes is read', () => {
  for (const name of ['default', 'services', 'notrack', 'docker-sandbox', 'reject-v4-only']) {
    it(`test/scenarios/${name}: every rule of both tables, both families, every direction`, async () => {
      const dir = scenario(name);
      const quiet = { result: () => undefined, error: () => undefined, warnings: () => undefined };
      const { explainer } = await loadExplainer(
        { config: existsSync(join(dir, 'gen-fw.yaml')) ? join(dir, 'gen-fw.yaml') : undefined, confD: join(dir, 'conf.d') },
        quiet,
      );
      let rules = 0;
      for (const family of [4, 6] as const) {
        const t = explainer.table(family);
        for (const chains of [t.chains, t.raw]) {
          for (const c of chains.values()) {
            for (const r of c.rules) {
              for (const direction of ['in', 'out', 'forward', 'docker', 'docker-out'] as const) {
                for (const proto of ['tcp', 'udp', family === 4 ? 'icmp' : 'ipv6-icmp'] as const) {
                  const ports = proto === 'tcp' || proto === 'udp' ? { sport: 53, dport: 53 } : {};
                  const packet = {
                    direction,
                    family,
                    proto,
                    ...ports,
                    source: family === 4 ? '10.0.0.5' : '2001:db8::5',
                    destination: family === 4 ? '10.0.0.6' : '2001:db8::6',
                    interface: 'docker0',
                    user: { uid: 0, gid: 0 },
                    state: 'new' as const,
                  };
                  for (const untracked of [false, true]) expect(() => matchRule(r.args, packet, t.sets, { untracked })).not.toThrow();
                }
              }
              rules++;
            }
          }
        }
      }
      expect(rules).toBeGreaterThan(20);
    });
  }
});
