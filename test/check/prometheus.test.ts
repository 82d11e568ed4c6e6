import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../helpers/render.js';
import { waitFor } from '../helpers/wait-for.js';
import { renderCheckScript, runNodeCheck, runShellCheck } from './run-check.js';

const corpus = join(import.meta.dirname, 'corpus');
const filesOf = (name: string) => ['--saved', join(corpus, name, 'saved'), '--live', join(corpus, name, 'live')];

/** The exporter's port, on the loopback of the test's own network namespace. */
const port = 9100;

describe("the metrics, scraped by Debian's prometheus-node-exporter (textfile collector, in a test namespace)", () => {
  let exporter: ResultPromise | undefined;
  // The exporter is a daemon: it runs in a network namespace of this test, never in the root one.
  const ns = `gfwt-${process.pid}-${randomBytes(3).toString('hex')}-prom`;
  let dir: string;
  let project: Project;
  let script: string;

  /** GET /metrics from inside the namespace (Node's fetch, run there). */
  async function get(): Promise<{ status: number; text: string }> {
    const code = `fetch('http://127.0.0.1:${port}/metrics').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, text: await r.text() })), () => process.exit(7))`;
    const r = await execa('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { reject: false });
    if (r.exitCode !== 0) throw new Error(`no answer from the exporter in ${ns}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { status: number; text: string };
  }
  async function scrape(): Promise<string> {
    const r = await get();
    expect(r.status).toBe(200);
    return r.text;
  }
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gen-fw-textfile-'));
    ({ project, script } = await renderCheckScript());
    await execa('ip', ['netns', 'add', ns]);
    await execa('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    exporter = execa(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'prometheus-node-exporter',
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${dir}`,
      ],
      { reject: false, buffer: false, stdio: 'ignore' },
    );
    // Ready when it answers.
    await waitFor(async () => (await get()).status === 200, { what: `prometheus-node-exporter to answer on 127.0.0.1:${port} in ${ns}` });
  }, 120_000);
  afterAll(async () => {
    exporter?.kill('SIGTERM');
    await exporter;
    await execa('ip', ['netns', 'del', ns], { reject: false });
    project?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads gen-fw check --format prometheus: drift 1 after a drift, 0 in sync', async () => {
    const file = join(dir, 'gen-fw-check.prom');
    for (const [name, drift] of [
      ['rule-added', 1],
      ['in-sync-v4', 0],
    ] as const) {
      const r = await runNodeCheck(filesOf(name));
      writeFileSync(file + '.tmp', r.metrics + '\n');
      renameSync(file + '.tmp', file);
      const text = await scrape();
      expect(sample(text, 'node_textfile_scrape_error'), text).toBe(0);
      expect(sample(text, 'gen_fw_drift{ruleset="ipv4"}')).toBe(drift);
      expect(sample(text, 'gen_fw_drift_rules_added{ruleset="ipv4"}')).toBe(drift);
      expect(sample(text, 'gen_fw_drift_check_success')).toBe(1);
      expect(sample(text, 'gen_fw_drift_check_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    }
    rmSync(file);
  });

  it("reads iptables-check's textfile, written into the directory atomically", async () => {
    for (const [name, drift] of [
      ['policy-only-drift', 1],
      ['in-sync-counters', 0],
    ] as const) {
      // runShellCheck points --textfile-dir at its own directory; here it is the exporter's.
      const r = await runShellCheck(script, [...filesOf(name), '--textfile-dir', dir]);
      expect(r.exitCode).toBe(drift);
      const text = await scrape();
      expect(sample(text, 'node_textfile_scrape_error'), text).toBe(0);
      expect(sample(text, 'gen_fw_drift{ruleset="ipv4"}')).toBe(drift);
      expect(sample(text, 'gen_fw_drift_policies_changed{ruleset="ipv4"}')).toBe(drift ? 2 : 0);
    }
  });

  it('says check_success 0 when the check could not run', async () => {
    await runShellCheck(script, [
      '--saved',
      join(dir, 'nothing-saved'),
      '--live',
      join(corpus, 'in-sync-v4', 'live'),
      '--textfile-dir',
      dir,
    ]);
    const text = await scrape();
    expect(sample(text, 'gen_fw_drift_check_success')).toBe(0);
    expect(sample(text, 'gen_fw_drift{ruleset="ipv4"}')).toBeUndefined();
  });
});
