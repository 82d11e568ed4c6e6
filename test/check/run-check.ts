import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, makeProject, render, type Project } from '../helpers/render.js';

export interface CheckRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The metrics it wrote (iptables-check: its textfile; gen-fw check: --format prometheus). */
  metrics: string;
  /** gen-fw check --format json. */
  json?: string;
}

/** A rendered bundle (the repo's defaults, or a given gen-fw.yaml) whose iptables-check the tests run. */
export async function renderCheckScript(host?: string): Promise<{ project: Project; script: string }> {
  const project = makeProject({ host });
  await render(project);
  return { project, script: join(project.sbin, 'iptables-check') };
}

/** Metric lines without comments and the timestamp: what both implementations must agree on. */
export function comparableMetrics(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('gen_fw_drift_check_timestamp_seconds'));
}

/** Run iptables-check (with sh, or bash) and read the textfile it wrote. */
export async function runShellCheck(
  script: string,
  args: string[],
  opts: { shell?: string; ns?: string; env?: Record<string, string> } = {},
): Promise<CheckRun> {
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-check-tf-'));
  try {
    const argv = [opts.shell ?? 'sh', script, '--textfile-dir', dir, ...args];
    const r = opts.ns
      ? await execa('ip', ['netns', 'exec', opts.ns, ...argv], { reject: false, env: opts.env })
      : await execa(argv[0] as string, argv.slice(1), { reject: false, env: opts.env });
    const prom = join(dir, 'iptables-check.prom');
    const leftovers = readdirSync(dir).filter((f) => f !== 'iptables-check.prom');
    if (leftovers.length) throw new Error(`iptables-check left ${leftovers.join(', ')} in the textfile directory`);
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, metrics: existsSync(prom) ? readFileSync(prom, 'utf8') : '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run `gen-fw check` in each format: text, prometheus and json. */
export async function runNodeCheck(args: string[], opts: { ns?: string; env?: Record<string, string> } = {}): Promise<CheckRun> {
  const run = (extra: string[]) => {
    const argv = [process.execPath, cli, 'check', ...args, ...extra];
    const env = { NO_COLOR: '1', ...opts.env };
    return opts.ns
      ? execa('ip', ['netns', 'exec', opts.ns, ...argv], { reject: false, env })
      : execa(argv[0] as string, argv.slice(1), { reject: false, env });
  };
  const [r, m, j] = await Promise.all([run([]), run(['--format', 'prometheus']), run(['--format', 'json'])]);
  if (m.exitCode !== r.exitCode || j.exitCode !== r.exitCode) {
    throw new Error(`gen-fw check exit codes differ between formats: ${r.exitCode}, ${m.exitCode}, ${j.exitCode}`);
  }
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, metrics: m.stdout, json: j.stdout };
}
