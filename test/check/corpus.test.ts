import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Project } from '../helpers/render.js';
import { comparableMetrics, renderCheckScript, runNodeCheck, runShellCheck, type CheckRun } from './run-check.js';

/**
 * The shared corpus: test/check/corpus/<case>/ holds `saved` and `live` (iptables-save
 * dumps), optional `saved-sets` and `live-sets` (ipset save), optional `args`, and
 * `expected`: the exit code, the metrics (without the timestamp) and, unless the diff
 * may pick either of two equally short answers, the report on stdout. iptables-check
 * (under dash and bash) and `gen-fw check` must all give exactly that.
 * UPDATE_CORPUS=1 writes `expected` from iptables-check's answer: review it.
 */
const corpusDir = join(import.meta.dirname, 'corpus');
// Real dockerd's dumps (test/check/corpus-docker/README.md): only the cases given an `expected`.
const dockerDir = join(import.meta.dirname, 'corpus-docker');
const caseDirs = new Map([
  ...readdirSync(corpusDir)
    .filter((c) => existsSync(join(corpusDir, c, 'live')))
    .map((c) => [c, join(corpusDir, c)] as const),
  ...readdirSync(dockerDir)
    .filter((c) => existsSync(join(dockerDir, c, 'expected')))
    .map((c) => [`docker/${c}`, join(dockerDir, c)] as const),
]);
const cases = [...caseDirs.keys()].sort();

interface Expected {
  exit: number;
  metrics: string[];
  report?: string;
}

function parseExpected(text: string): Expected {
  const [head = '', metrics = '', report] = text.split(/^-- (?:metrics|report)\n/m);
  const exit = Number(/^exit (\d+)$/m.exec(head)?.[1]);
  return { exit, metrics: comparableMetrics(metrics), ...(report !== undefined ? { report: report.replace(/\n$/, '') } : {}) };
}

function formatExpected(run: CheckRun, withReport: boolean): string {
  const parts = [`exit ${run.exitCode}`, '-- metrics', ...comparableMetrics(run.metrics)];
  if (withReport) parts.push('-- report', ...(run.stdout ? [run.stdout] : []));
  return parts.join('\n') + '\n';
}

interface JsonReport {
  verdict: string;
  exit_code: number;
  rulesets: Array<{ ruleset: string; status: string; rules_added: number; rules_removed: number; changes: Array<{ kind: string }> }>;
}

/** The JSON tells the same story as the metrics. */
function checkJson(run: CheckRun, want: Expected): void {
  const report = JSON.parse(run.json ?? '') as JsonReport;
  expect(report.exit_code).toBe(want.exit);
  expect(report.verdict).toBe(want.exit === 0 ? 'in-sync' : want.exit === 1 ? 'drift' : 'cannot-check');
  for (const r of report.rulesets.filter((x) => x.status !== 'error')) {
    expect(want.metrics).toContain(`gen_fw_drift_rules_added{ruleset="${r.ruleset}"} ${r.rules_added}`);
    expect(want.metrics).toContain(`gen_fw_drift_rules_removed{ruleset="${r.ruleset}"} ${r.rules_removed}`);
    expect(r.changes.filter((c) => c.kind === 'rule-added')).toHaveLength(r.rules_added);
  }
}

function argsOf(dir: string): string[] {
  const args = ['--saved', join(dir, 'saved'), '--live', join(dir, 'live')];
  if (existsSync(join(dir, 'args'))) args.push(...readFileSync(join(dir, 'args'), 'utf8').trim().split(/\s+/));
  if (existsSync(join(dir, 'saved-sets'))) args.push('--saved-sets', join(dir, 'saved-sets'), '--live-sets', join(dir, 'live-sets'));
  return args;
}

describe('the shared corpus gives the same verdicts through iptables-check and gen-fw check', () => {
  let project: Project;
  let script: string;

  beforeAll(async () => {
    ({ project, script } = await renderCheckScript());
  });
  afterAll(() => project?.cleanup());

  it.each(cases)('%s', async (name) => {
    const dir = caseDirs.get(name) as string;
    const args = argsOf(dir);
    // iptables-check runs twice on one cache directory: cold (the full comparison, which
    // keeps an in-sync state in the cache) and warm (the cached answer where it applies).
    const cache = mkdtempSync(join(tmpdir(), 'gen-fw-check-corpus-cache-'));
    onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
    const dash = await runShellCheck(script, [...args, '--cache-dir', cache], { shell: 'sh' });
    if (process.env.UPDATE_CORPUS) {
      const keepReport = !existsSync(join(dir, 'expected')) || /^-- report$/m.test(readFileSync(join(dir, 'expected'), 'utf8'));
      writeFileSync(join(dir, 'expected'), formatExpected(dash, keepReport));
    }
    const want = parseExpected(readFileSync(join(dir, 'expected'), 'utf8'));
    const runs: Array<[string, CheckRun]> = [
      ['iptables-check (dash)', dash],
      ['iptables-check (dash, cache warm)', await runShellCheck(script, [...args, '--cache-dir', cache], { shell: 'sh' })],
      ['iptables-check (bash, cache warm)', await runShellCheck(script, [...args, '--cache-dir', cache], { shell: 'bash' })],
      ['iptables-check (bash, no cache)', await runShellCheck(script, [...args, '--no-cache'], { shell: 'bash' })],
      ['gen-fw check', await runNodeCheck(args)],
    ];
    for (const [who, run] of runs) {
      expect(run.exitCode, `${who} exit code; stderr: ${run.stderr}`).toBe(want.exit);
      expect(comparableMetrics(run.metrics), `${who} metrics`).toEqual(want.metrics);
      if (want.report !== undefined) expect(run.stdout, `${who} report`).toBe(want.report);
      // stderr carries messages and findings, never a rule.
      expect(run.stderr, `${who} stderr`).not.toMatch(/^-A /m);
    }
    // Every in-sync ruleset of rules (not ipsets) leaves its normalised live state in the cache.
    const cached = readdirSync(cache).sort();
    if (want.exit === 0) expect(cached, 'cache files').toEqual([args.includes('ipv6') ? 'iptables-check.v6' : 'iptables-check.v4']);
    else if (want.exit === 1 && want.metrics.includes('gen_fw_drift{ruleset="ipv4"} 1')) expect(cached).not.toContain('iptables-check.v4');
    const node = runs[4]![1];
    if (want.exit !== 2 || node.json) checkJson(node, want);
  });
});
