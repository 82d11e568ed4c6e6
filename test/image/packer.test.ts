import { execa } from 'execa';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/render.js';

// Debian's Packer (1.6) has amazon-ebs and null built in and does not know
// required_plugins: it validates packer/ without plugins.pkr.hcl. In a fresh network
// namespace, so that nothing is (or could be) downloaded.
const packerDir = join(repoRoot, 'packer');
const env = { CHECKPOINT_DISABLE: '1', PACKER_CONFIG_DIR: '' };

describe('packer/', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gen-fw-packer-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is formatted (packer fmt -check)', async () => {
    const r = await execa('packer', ['fmt', '-check', '-diff', packerDir], { reject: false, env });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('keeps required_plugins in plugins.pkr.hcl only', () => {
    const files = readdirSync(packerDir).filter((f) => f.endsWith('.pkr.hcl'));
    expect(files).toContain('plugins.pkr.hcl');
    for (const f of files.filter((f) => f !== 'plugins.pkr.hcl')) cpSync(join(packerDir, f), join(tmp, f));
    cpSync(join(packerDir, 'rehearse.sh'), join(tmp, 'rehearse.sh'));
  });

  it('validates without plugins and without a network (packer validate)', async () => {
    const r = await execa('unshare', ['--net', 'packer', 'validate', '.'], { cwd: tmp, reject: false, env, all: true });
    expect(r.all).toBe('');
    expect(r.exitCode).toBe(0);
    const inspect = await execa('unshare', ['--net', 'packer', 'inspect', '.'], { cwd: tmp, reject: false, env, all: true });
    expect(inspect.all).toMatch(/amazon-ebs\.ubuntu/);
    expect(inspect.all).toMatch(/null\.rehearsal/);
  });

  it('has a rehearsal script that passes shellcheck', async () => {
    const r = await execa(process.env.SHELLCHECK_BIN ?? 'shellcheck', [join(packerDir, 'rehearse.sh')], { reject: false });
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(0);
  });
});
