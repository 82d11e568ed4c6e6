import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/render.js';

/*
 * The package as users get it: `npm pack` of what `npm test` built (dist/, schema/; with
 * --ignore-scripts, so that `prepare` does not rebuild dist/ under the tests running beside
 * this one), then `npm install` of the tarball in an empty directory, then
 * `npx gen-fw init && npx gen-fw render`. Slow (a build and an install: minutes on a busy
 * machine); the install needs the dependencies from the registry or npm's cache.
 */
const SLOW = 600_000;
const npm = (args: string[], cwd: string) =>
  execa('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    reject: false,
    env: { NO_COLOR: '1', npm_config_update_notifier: 'false' },
  });

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'gen-fw-pack-'));
    const r = await npm(['pack', '--ignore-scripts', '--pack-destination', work], repoRoot);
    expect(r.exitCode, r.stderr).toBe(0);
    tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );
  }, SLOW);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the bundled CLI, the schemas, packer/ and init/', async () => {
    const list = (await execa('tar', ['-tzf', tarball])).stdout.split('\n');
    // The CLI as one bundle (scripts/bundle-cli.mjs): tsc's separate modules stay at home.
    expect(list.filter((f) => f.startsWith('package/dist/') && !f.startsWith('package/dist/bin/'))).toEqual([
      'package/dist/templates.precompiled.cjs',
    ]);
    for (const f of [
      'dist/bin/gen-fw.js',
      'dist/bin/probe.js',
      'schema/gen-fw.schema.json',
      'schema/service.schema.json',
      'schema/expectations.schema.json',
      'packer/gen-fw.pkr.hcl',
      'packer/plugins.pkr.hcl',
      'packer/variables.pkr.hcl',
      'packer/rehearse.sh',
      'init/conf.d/web.yaml',
      'init/expectations.yaml',
      'init/gitignore',
    ]) {
      expect(list).toContain(`package/${f}`);
    }
  });

  it(
    'installed in an empty directory: npx gen-fw init && npx gen-fw render',
    async () => {
      const project = join(work, 'project');
      // --prefix: npm would otherwise install into the nearest ancestor that has a node_modules (a stray /tmp/node_modules).
      const install = await npm(
        ['install', '--prefer-offline', '--prefix', project, tarball],
        (await execa('mkdir', ['-p', project]), project),
      );
      expect(install.exitCode, install.stderr).toBe(0);

      const init = await execa('npx', ['--no-install', 'gen-fw', 'init'], { cwd: project, reject: false, env: { NO_COLOR: '1' } });
      expect(init.exitCode, init.stderr).toBe(0);
      expect(init.stderr).toBe('');
      // The project depends on gen-fw: the $schema lines point into node_modules, and are there.
      const line = readFileSync(join(project, 'conf.d/web.yaml'), 'utf8').split('\n')[0]!;
      expect(line).toBe('# yaml-language-server: $schema=../node_modules/gen-fw/schema/service.schema.json');
      expect(existsSync(join(project, 'conf.d', line.split('=')[1]!))).toBe(true);
      expect(existsSync(join(project, 'packer/gen-fw.pkr.hcl'))).toBe(true);

      const render = await execa('npx', ['--no-install', 'gen-fw', 'render'], { cwd: project, reject: false, env: { NO_COLOR: '1' } });
      expect(render.exitCode, render.stderr).toBe(0);
      expect(render.stderr).toBe('');
      expect(existsSync(join(project, 'build/firewall/rootfs/opt/sbin/iptables_conf.d/iptables_web.sh'))).toBe(true);
    },
    SLOW,
  );
});
