import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, render, type Project } from '../helpers/render.js';

// install.sh's refusals, which need no Debian root. (Installing is proven in boot.test.ts.)
describe('install.sh refuses clearly', () => {
  let project: Project;
  let notDebian: string;
  const install = (args: string[], uid?: number) => {
    const argv = ['sh', join(project.out, 'install.sh'), ...args];
    const cmd = uid === undefined ? argv : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv];
    return execa(cmd[0]!, cmd.slice(1), { reject: false });
  };

  beforeAll(async () => {
    project = makeProject({});
    chmodSync(project.dir, 0o755);
    await render(project);
    notDebian = mkdtempSync('/tmp/gen-fw-not-debian-');
  });
  afterAll(() => {
    project?.cleanup();
    rmSync(notDebian, { recursive: true, force: true });
  });

  it('exit 3 when not run as root', async () => {
    const r = await install([], 65534);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/install\.sh: must run as root/);
  });

  it('exit 2 when the root is not a Debian-family root', async () => {
    let r = await install(['--root', notDebian]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is not a Debian-family root: no etc\/debian_version/);
    mkdirSync(join(notDebian, 'etc'));
    writeFileSync(join(notDebian, 'etc/debian_version'), '12.0\n');
    r = await install(['--root', notDebian]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is not a Debian-family root: no usr\/bin\/apt-get/);
  });

  it('exit 2 for a missing root or an unknown option', async () => {
    expect((await install(['--root', join(notDebian, 'nope')])).stderr).toMatch(/no such directory/);
    const r = await install(['--frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown option: --frobnicate/);
  });
});
