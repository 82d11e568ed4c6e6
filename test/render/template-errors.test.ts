import { execa } from 'execa';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, repoRoot } from '../helpers/render.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A project with one service and a copy of the built-in templates, changed by `edit`. */
function project(edit: (templates: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'gfw-template-errors-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d/web.yaml'), 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n');
  cpSync(join(repoRoot, 'templates'), join(dir, 'tpl'), { recursive: true });
  edit(join(dir, 'tpl'));
  return dir;
}

const render = (dir: string, templates: string) =>
  execa(process.execPath, [cli, 'render', '--out', 'out', '--templates', templates], { cwd: dir, reject: false, env: { NO_COLOR: '1' } });

describe('a broken --templates is bad input: exit 2 naming the path, nothing written (issue 19.14)', () => {
  it('a template that fails at render (a name the data lacks)', async () => {
    const dir = project((t) => appendFileSync(join(t, 'fragment.sh.hbs'), '{{no_such_value}}\n'));
    const r = await render(dir, 'tpl');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('tpl/fragment.sh.hbs: template failed at render: "no_such_value" not defined');
    expect(r.stderr).not.toContain('internal error');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a --templates directory that does not exist, or is a file', async () => {
    const dir = project(() => {});
    const missing = await render(dir, 'nope');
    expect(missing.exitCode, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('nope: no such directory');
    const file = await render(dir, 'conf.d/web.yaml');
    expect(file.exitCode, file.stderr).toBe(2);
    expect(file.stderr).toContain('conf.d/web.yaml: is not a directory');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('a custom template cannot print a config value unquoted (issue 19.14)', () => {
  const withLine = (line: string) => (t: string) => appendFileSync(join(t, 'fragment.sh.hbs'), `${line}\n`);
  const quoted = (dir: string) =>
    writeFileSync(
      join(dir, 'conf.d/web.yaml'),
      "description: 'web; rm -rf / $(id)'\nrules:\n  - { direction: in, proto: tcp, dport: 80 }\n",
    );

  for (const line of ['{{description}}', 'echo {{ description }}']) {
    it(`${line} (not a plain word): exit 2 naming the template and line, nothing written`, async () => {
      const dir = project(withLine(line));
      quoted(dir);
      const r = await render(dir, 'tpl');
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/tpl\/fragment\.sh\.hbs:\d+: template prints a value unquoted; use \{\{sh x\}\}/);
      expect(r.stderr).not.toContain('internal error');
      expect(existsSync(join(dir, 'out'))).toBe(false);
    });
  }

  for (const line of ['{{{description}}}', '{{& description}}', '{{{sh description}}}']) {
    it(`${line}: refused before rendering, exit 2, nothing written`, async () => {
      const dir = project(withLine(line));
      const r = await render(dir, 'tpl');
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/tpl\/fragment\.sh\.hbs:\d+: template prints a value unquoted \(\{\{\{ \}\}\} or \{\{& \}\}\)/);
      expect(existsSync(join(dir, 'out'))).toBe(false);
    });
  }

  it('{{sh description}} and {{comment description}} render; plain words ({{service}}) print as they are', async () => {
    const dir = project(withLine('echo {{sh description}} # {{comment description}} {{service}}'));
    quoted(dir);
    const r = await render(dir, 'tpl');
    expect(r.exitCode, r.stderr).toBe(0);
    const script = readFileSync(join(dir, 'out/rootfs/opt/sbin/iptables_conf.d/iptables_web.sh'), 'utf8');
    expect(script).toContain('echo "web; rm -rf / \\$(id)" # web; rm -rf / $(id) web\n');
  });
});
