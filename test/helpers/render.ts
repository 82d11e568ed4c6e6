import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repoRoot, 'dist/bin/gen-fw.js');

export interface Project {
  dir: string;
  out: string;
  /** rootfs/<install_dir>, where iptables-init lives. */
  sbin: string;
  init: string;
  cleanup(): void;
}

/** A throwaway project: gen-fw.yaml (when given), conf.d/*.yaml and any extra files. */
export function makeProject(opts: { host?: string; services?: Record<string, string>; files?: Record<string, string> }): Project {
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-test-'));
  mkdirSync(join(dir, 'conf.d'));
  if (opts.host !== undefined) writeFileSync(join(dir, 'gen-fw.yaml'), opts.host);
  for (const [name, text] of Object.entries(opts.services ?? {})) writeFileSync(join(dir, 'conf.d', name), text);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const out = join(dir, 'build/firewall');
  const sbin = join(out, 'rootfs/opt/sbin');
  return { dir, out, sbin, init: join(sbin, 'iptables-init'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runCli(args: string[], cwd: string) {
  return execa(process.execPath, [cli, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
}

/** Render a project; throws with the CLI's stderr when it fails. */
export async function render(p: Project, extra: string[] = []): Promise<void> {
  const r = await runCli(['render', ...extra], p.dir);
  if (r.exitCode !== 0) throw new Error(`gen-fw render failed (${r.exitCode}):\n${r.stderr}`);
}
