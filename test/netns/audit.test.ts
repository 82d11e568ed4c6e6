import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeCheck, runShellCheck } from '../check/run-check.js';
import { Bench, type Check } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { waitFor } from '../helpers/wait-for.js';

// One service: an audited drop of udp 8080 from 192.0.2.100, then an accept of 8080 (the
// audit passes the packet on to it), and an audited drop of 8081 with nothing after it (the
// packet goes on to the final drop). The same project in enforce and in audit mode.
const SERVICE = `rules:
  - { direction: in, proto: udp, dport: 8080, source: 192.0.2.100, action: drop, audit: true }
  - { direction: in, proto: udp, dport: 8080 }
  - { direction: in, proto: udp, dport: 8081, source: 192.0.2.100, action: drop, audit: true }
`;

/** The packet counter of the one rule of a `iptables-save -c` dump that contains every part. */
function packets(dump: string, ...parts: string[]): number {
  // A part that starts with "$" is how the rule ends (the counting rule of an audit: no target).
  const rules = dump.split('\n').filter((l) => parts.every((p) => (p.startsWith('$') ? l.endsWith(p.slice(1)) : l.includes(p))));
  if (rules.length !== 1) throw new Error(`${rules.length} rules contain ${parts.join(' … ')}:\n${dump}`);
  return Number(/^\[(\d+):/.exec(rules[0]!)?.[1]);
}

/** A sample of a metrics text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('audit, with real packets (one UDP datagram a check: counters count exactly)', () => {
  let b: Bench;
  const projects: Record<'enforce' | 'audit', Project | undefined> = { enforce: undefined, audit: undefined };
  const save = async () => (await b.exec(b.host, 'iptables-save', ['-c'])).stdout;
  const apply = async (mode: 'enforce' | 'audit') => {
    await b.exec(b.host, 'sh', [projects[mode]!.init, '--save']);
  };
  const udp = (port: number, source: string, n = 1): Check[] =>
    Array.from({ length: n }, () => ({ proto: 'udp', host: b.hostV4, port, source }));

  beforeAll(async () => {
    b = await Bench.create();
    for (const mode of ['enforce', 'audit'] as const) {
      const p = makeProject({ host: `mode: ${mode}\n`, services: { 'web.yaml': SERVICE } });
      projects[mode] = p;
      await render(p);
    }
    await b.serve(b.host, ['udp:8080', 'udp:8081', 'udp:9999']);
  }, 120_000);
  afterAll(async () => {
    await b?.cleanup();
    for (const p of Object.values(projects)) p?.cleanup();
  });

  it('enforce: an audit rule passes the packet on (to the accept, or to the final drop); mode audit lets through what enforce drops', async () => {
    await apply('enforce');
    let before = await save();
    expect(await b.check(b.peer, [...udp(8080, b.peerV4b), ...udp(8081, b.peerV4b), ...udp(9999, b.peerV4)])).toEqual([
      'open',
      'filtered',
      'filtered',
    ]);
    let after = await save();
    // The counting rules of both audit rules moved, and so did their LOG rules (under the limit).
    for (const port of ['8080', '8081']) {
      expect(packets(after, `--dport ${port}`, '$--comment web') - packets(before, `--dport ${port}`, '$--comment web')).toBe(1);
      expect(packets(after, `--dport ${port}`, '"web audit: "') - packets(before, `--dport ${port}`, '"web audit: "')).toBe(1);
    }
    expect(packets(after, '-A GFW-INPUT ', '"gen-fw: final"') - packets(before, '-A GFW-INPUT ', '"gen-fw: final"')).toBe(2);

    await apply('audit');
    before = await save();
    expect(before).toContain(':INPUT ACCEPT');
    expect(await b.check(b.peer, [...udp(8081, b.peerV4b), ...udp(9999, b.peerV4)])).toEqual(['open', 'open']);
    after = await save();
    expect(
      packets(after, '-A GFW-INPUT ', '"gen-fw: final"', '-j GFW-AUDIT') -
        packets(before, '-A GFW-INPUT ', '"gen-fw: final"', '-j GFW-AUDIT'),
    ).toBe(2);
    expect(packets(after, '-A GFW-AUDIT ', 'FW-AUDIT: ') - packets(before, '-A GFW-AUDIT ', 'FW-AUDIT: ')).toBe(2);
    expect(packets(after, '--dport 8081', '"web audit: "') - packets(before, '--dport 8081', '"web audit: "')).toBe(1);
  });

  it("metrics: iptables-check and gen-fw check count the drops and audits by reason, and Debian's node exporter serves them", async () => {
    await apply('enforce');
    const metrics = async () => {
      const shell = await runShellCheck(projects.enforce!.sbin + '/iptables-check', [], { ns: b.host });
      expect(shell.exitCode, shell.stderr).toBe(0);
      return shell.metrics;
    };
    const dropped = 'gen_fw_dropped_packets_total{ruleset="ipv4",reason="final"}';
    const audited = 'gen_fw_audited_packets_total{ruleset="ipv4",reason="service",service="web"}';
    const m0 = await metrics();
    expect(sample(m0, 'gen_fw_audit_mode{ruleset="ipv4"}')).toBe(0);
    expect(m0).toContain('# TYPE gen_fw_dropped_packets_total counter');
    const N = 5;
    expect(await b.check(b.peer, [...udp(9999, b.peerV4, N), ...udp(8081, b.peerV4b)])).toEqual([...Array(N).fill('filtered'), 'filtered']);
    const m1 = await metrics();
    expect(sample(m1, dropped)! - sample(m0, dropped)!).toBe(N + 1);
    expect(sample(m1, audited)! - sample(m0, audited)!).toBe(1);
    expect(sample(m1, dropped)).toBe(packets(await save(), '-A GFW-INPUT ', '"gen-fw: final"'));
    expect(sample(m1, 'gen_fw_dropped_packets_total{ruleset="ipv4",reason="invalid"}')).toBeGreaterThanOrEqual(0);
    // gen-fw check on the live firewall says the same (counters can only have grown since).
    const node = await runNodeCheck([], { ns: b.host });
    expect(sample(node.metrics, dropped)).toBeGreaterThanOrEqual(sample(m1, dropped)!);
    expect(sample(node.metrics, audited)).toBe(sample(m1, audited));

    await apply('audit');
    const dir = mkdtempSync(join(tmpdir(), 'gen-fw-audit-tf-'));
    let exporter: ResultPromise | undefined;
    try {
      const check = await execa('ip', ['netns', 'exec', b.host, 'sh', projects.audit!.sbin + '/iptables-check', '--textfile-dir', dir], {
        reject: false,
      });
      expect(check.exitCode, check.stderr).toBe(0);
      // The exporter runs in the host namespace, on its loopback (never in the root namespace).
      exporter = execa(
        'ip',
        [
          'netns',
          'exec',
          b.host,
          'prometheus-node-exporter',
          '--web.listen-address=127.0.0.1:9100',
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${dir}`,
        ],
        { reject: false, buffer: false, stdio: 'ignore' },
      );
      const scrape = async () => {
        const r = await execa(
          'ip',
          [
            'netns',
            'exec',
            b.host,
            process.execPath,
            '-e',
            "fetch('http://127.0.0.1:9100/metrics').then(async (r) => process.stdout.write(await r.text()))",
          ],
          { reject: false },
        );
        return r.exitCode === 0 ? r.stdout : '';
      };
      const text = await waitFor(async () => ((await scrape()).includes('gen_fw_audit_mode') ? scrape() : undefined), {
        what: 'the node exporter to serve gen_fw_audit_mode',
      });
      expect(sample(text!, 'node_textfile_scrape_error'), text).toBe(0);
      expect(sample(text!, 'gen_fw_audit_mode{ruleset="ipv4"}')).toBe(1);
      // The exporter writes the labels in name order, and the labels a series lacks as "".
      expect(sample(text!, 'gen_fw_audited_packets_total{reason="final",ruleset="ipv4",service=""}'), text).toBe(0);
      expect(text).toContain('# TYPE gen_fw_audited_packets_total counter');
    } finally {
      exporter?.kill('SIGTERM');
      await exporter;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
