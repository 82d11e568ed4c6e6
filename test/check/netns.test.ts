import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { comparableMetrics, runNodeCheck, runShellCheck, type CheckRun } from './run-check.js';

const blocklist = ['10.0.0.7', '10.0.1.7', '192.0.2.100', '2001:db8::100'].join('\n');

describe('the drift check on a firewall applied and saved in a namespace', () => {
  let bench: Bench;
  let project: Project;
  let script: string;
  let tmp: string;
  let stubs: string;
  let loggerLog: string;
  let savedDir: string;

  /** Programs in `stubs` come first in PATH (iptables-check keeps the caller's PATH in front). */
  const stub = (name: string, body: string) => {
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  };
  const env = () => ({ PATH: `${stubs}:${process.env.PATH ?? '/usr/bin:/bin'}`, GFW_TEST_LOGGER: loggerLog });
  const loggerLines = () => readFileSync(loggerLog, 'utf8').split('\n').filter(Boolean);
  const sh = (script: string) => bench.sh(bench.host, script);

  /** iptables-check and gen-fw check, both with the defaults they have on a host. */
  async function checkBoth(): Promise<{ shell: CheckRun; node: CheckRun }> {
    writeFileSync(loggerLog, '');
    const shell = await runShellCheck(script, [], { ns: bench.host, env: env() });
    const node = await runNodeCheck([], { ns: bench.host, env: env() });
    expect(comparableMetrics(node.metrics), 'both write the same metrics').toEqual(comparableMetrics(shell.metrics));
    return { shell, node };
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'gen-fw-check-ns-'));
    stubs = join(tmp, 'bin');
    mkdirSync(stubs);
    loggerLog = join(tmp, 'logger.log');
    stub('logger', 'printf "%s\\n" "$*" >> "$GFW_TEST_LOGGER"');
    bench = await Bench.create();
    project = makeProject({
      host:
        'deny: { source: ["@blocklist"] }\nsets: { blocklist: { file: lists/blocklist.txt } }\n' +
        `drift_check: { schedule: "*/5 * * * *", textfile_dir: ${join(tmp, 'textfile')} }\n`,
      files: { 'lists/blocklist.txt': blocklist },
      services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' },
    });
    mkdirSync(join(tmp, 'textfile'));
    await render(project);
    script = join(project.sbin, 'iptables-check');
    await bench.exec(bench.host, 'sh', [project.init, '--save']);
    savedDir = `/etc/netns/${bench.host}/iptables`;
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is in sync right after apply and save, in both families and the ipsets', async () => {
    const { shell, node } = await checkBoth();
    for (const r of [shell, node]) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^IPv4: in sync \(\d+ rules\)$/m);
      expect(r.stdout).toMatch(/^IPv6: in sync \(\d+ rules\)$/m);
      expect(r.stdout).toMatch(/^ipsets: in sync \(4 members\)$/m);
      expect(r.stderr).toBe('');
    }
    expect(loggerLines()).toEqual([]);
  });

  it('runs silently from its cron line while in sync', async () => {
    const cron = readFileSync(join(project.out, 'rootfs/etc/cron.d/iptables-check'), 'utf8');
    const line = cron.split('\n').find((l) => l.startsWith('*/5 * * * * root '));
    expect(line).toBeDefined();
    const command = line!.slice('*/5 * * * * root '.length).replaceAll('/opt/sbin/iptables-check', script);
    const r = await bench.exec(bench.host, 'sh', ['-c', command], { reject: false, env: env() });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, '', '']);
    // ...and still writes its metrics, atomically, into drift_check.textfile_dir.
    const prom = readFileSync(join(tmp, 'textfile', 'iptables-check.prom'), 'utf8');
    expect(prom).toContain('gen_fw_drift{ruleset="ipv4"} 0');
    expect(prom).toContain('gen_fw_drift_check_success 1');
  });

  it('finds a rule inserted by hand, names it, and logs one line', async () => {
    await sh('iptables -I GFW-INPUT-RULES 1 -s 198.51.100.7/32 -p tcp --dport 5432 -j ACCEPT');
    try {
      const { shell, node } = await checkBoth();
      for (const r of [shell, node]) {
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stdout).toContain('IPv4: drift (rules: 1 added, 0 removed; policies: 0 changed; chains: 0 added, 0 removed)');
        expect(r.stdout).toContain(
          '  filter GFW-INPUT-RULES: + -A GFW-INPUT-RULES -s 198.51.100.7/32 -p tcp -m tcp --dport 5432 -j ACCEPT',
        );
        expect(r.stdout).toMatch(/^IPv6: in sync/m);
      }
      expect(comparableMetrics(shell.metrics)).toContain('gen_fw_drift{ruleset="ipv4"} 1');
      expect(loggerLines()).toHaveLength(1);
      expect(loggerLines()[0]).toMatch(/^-t iptables-check -p daemon.warning -- firewall drift: IPv4: drift \(rules: 1 added/);
    } finally {
      await sh('iptables -D GFW-INPUT-RULES -s 198.51.100.7/32 -p tcp --dport 5432 -j ACCEPT');
    }
    expect((await checkBoth()).shell.exitCode).toBe(0);
  });

  const policyDrift = (family: string) => `${family}: drift (rules: 0 added, 0 removed; policies: 1 changed; chains: 0 added, 0 removed)`;
  it.each([
    [
      'an IPv4 policy change',
      'iptables -P FORWARD ACCEPT',
      'iptables -P FORWARD DROP',
      policyDrift('IPv4'),
      '  filter FORWARD: policy DROP -> ACCEPT',
    ],
    [
      'an IPv6 policy change',
      'ip6tables -P INPUT ACCEPT',
      'ip6tables -P INPUT DROP',
      policyDrift('IPv6'),
      '  filter INPUT: policy DROP -> ACCEPT',
    ],
    [
      'a member added to a gfw-* set',
      'ipset add gfw-blocklist-v4 203.0.113.9',
      'ipset del gfw-blocklist-v4 203.0.113.9',
      'ipsets: drift (members: 1 added, 0 removed; sets: 0 changed, 0 added, 0 removed)',
      '  set gfw-blocklist-v4: + 203.0.113.9',
    ],
  ])('finds %s', async (_, change, undo, summary, detail) => {
    await sh(change);
    try {
      for (const r of Object.values(await checkBoth())) {
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stdout.split('\n').filter((l) => l.includes(': drift'))).toEqual([summary]);
        expect(r.stdout).toContain(detail);
      }
    } finally {
      await sh(undo);
    }
  });

  it("leaves out Docker's and Kubernetes' chains and the jumps into them", async () => {
    await sh(
      [
        'for ipt in iptables ip6tables; do',
        '  $ipt -N DOCKER-USER; $ipt -A DOCKER-USER -j RETURN',
        '  $ipt -N DOCKER; $ipt -N DOCKER-ISOLATION-STAGE-1; $ipt -A DOCKER-ISOLATION-STAGE-1 -j RETURN',
        '  $ipt -I FORWARD 1 -j DOCKER-USER; $ipt -I FORWARD 2 -j DOCKER-ISOLATION-STAGE-1; $ipt -I FORWARD 3 -o docker0 -j DOCKER',
        '  $ipt -t nat -N DOCKER; $ipt -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
        '  $ipt -t nat -A OUTPUT -m addrtype --dst-type LOCAL -g DOCKER',
        '  $ipt -N KUBE-FIREWALL; $ipt -N KUBE-SERVICES; $ipt -I INPUT 1 -j KUBE-FIREWALL; $ipt -I OUTPUT 1 -j KUBE-FIREWALL',
        '  $ipt -I OUTPUT 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '  $ipt -t nat -N KUBE-SERVICES; $ipt -t nat -N KUBE-POSTROUTING; $ipt -t nat -A KUBE-POSTROUTING -j RETURN',
        '  $ipt -t nat -A PREROUTING -j KUBE-SERVICES; $ipt -t nat -A POSTROUTING -j KUBE-POSTROUTING',
        '  $ipt -N cali-FORWARD; $ipt -I FORWARD 1 -j cali-FORWARD; $ipt -t mangle -N CNI-HOSTPORT; $ipt -t mangle -A PREROUTING -j CNI-HOSTPORT',
        'done',
      ].join('\n'),
    );
    const { shell, node } = await checkBoth();
    for (const r of [shell, node]) {
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).not.toContain('drift');
    }
  });

  it('reports legacy tables (said on stderr) as a finding, not as rules', async () => {
    for (const cmd of ['iptables-save', 'ip6tables-save']) {
      stub(cmd, `echo '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them' >&2\nexec /usr/sbin/${cmd} "$@"`);
    }
    try {
      const { shell, node } = await checkBoth();
      for (const r of [shell, node]) {
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stderr).toContain('warning: IPv4: iptables-legacy tables present: their rules are not checked');
        expect(r.stderr).not.toContain('said');
      }
      expect(comparableMetrics(shell.metrics)).toContain('gen_fw_drift_legacy_tables{ruleset="ipv4"} 1');
    } finally {
      rmSync(join(stubs, 'iptables-save'));
      rmSync(join(stubs, 'ip6tables-save'));
    }
  });

  it('cannot check when iptables-save fails: 2 from iptables-check, 3 (environment) from gen-fw check', async () => {
    stub('ip6tables-save', 'echo "ip6tables-save: broken for the test" >&2\nexit 1');
    try {
      const { shell, node } = await checkBoth();
      expect(shell.exitCode).toBe(2);
      expect(node.exitCode).toBe(3);
      for (const r of [shell, node]) {
        expect(r.stderr).toContain('IPv6: cannot check: cannot run ip6tables-save: ip6tables-save: broken for the test');
        expect(r.stdout).toMatch(/^IPv4: in sync/m);
      }
      expect(comparableMetrics(shell.metrics)).toContain('gen_fw_drift_check_success 0');
    } finally {
      rmSync(join(stubs, 'ip6tables-save'));
    }
  });

  it('cannot check (2) when a saved file is missing', async () => {
    renameSync(join(savedDir, 'rules.v6'), join(savedDir, 'rules.v6.away'));
    try {
      const { shell, node } = await checkBoth();
      for (const r of [shell, node]) {
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toContain('IPv6: cannot check: /etc/iptables/rules.v6: no such file');
      }
      expect(comparableMetrics(shell.metrics)).toContain('gen_fw_drift_check_success 0');
      expect(loggerLines()).toHaveLength(1);
      expect(loggerLines()[0]).toMatch(
        /^-t iptables-check -p daemon\.err -- IPv4: in sync \(\d+ rules\); IPv6: cannot check: \/etc\/iptables\/rules\.v6: no such file; ipsets: in sync \(4 members\)$/,
      );
    } finally {
      renameSync(join(savedDir, 'rules.v6.away'), join(savedDir, 'rules.v6'));
    }
    expect((await checkBoth()).node.exitCode).toBe(0);
  });
});
