import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/load/load-config.js';
import { readSets } from '../../src/load/read-sets.js';
import { compileRulesetStream } from '../../src/model/compile-ruleset.js';
import { memorySink } from '../../src/render/bundle.js';
import {
  COMPILE_OPTIONS,
  loadTemplates,
  readTemplateFiles,
  type PrecompiledTemplates,
  type Template,
} from '../../src/render/handlebars.js';
import { precompiledModule } from '../../src/render/precompile-templates.js';
import { renderBundle } from '../../src/render/render-bundle.js';
import { cli, repoRoot } from '../helpers/render.js';

/**
 * Templates are precompiled at build time (dist/templates.precompiled.cjs) and a render uses
 * a precompiled spec only for a file whose bytes it was made from; anything else is compiled
 * at run time. Either way the rendered bytes are the same.
 */
const templatesDir = join(repoRoot, 'templates');
const scenarios = ['default', 'services', 'reject-v4-only'];
const allFiles = readTemplateFiles(templatesDir).map((f) => f.path);
let tmp: string;
let built: PrecompiledTemplates;
let modules = 0;

/** The build step's output for `dir`, required as the CLI requires it. */
function precompile(dir: string): PrecompiledTemplates {
  const file = join(tmp, `precompiled-${modules++}.cjs`);
  writeFileSync(file, precompiledModule(dir));
  return createRequire(import.meta.url)(file) as PrecompiledTemplates;
}

/** A copy of templates/ with one file changed. */
function editedTemplates(path: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmp, 'templates-'));
  cpSync(templatesDir, dir, { recursive: true });
  writeFileSync(join(dir, path), edit(readFileSync(join(dir, path), 'utf8')));
  return dir;
}

/** A scenario rendered in memory with the given templates: path → content. */
async function renderWith(scenario: string, templates: ReadonlyMap<string, Template>): Promise<Map<string, string>> {
  const dir = join(repoRoot, 'test/scenarios', scenario);
  const config = existsSync(join(dir, 'gen-fw.yaml')) ? join(dir, 'gen-fw.yaml') : undefined;
  const loaded = await loadConfig({ config, confD: join(dir, 'conf.d') });
  const { sets } = await readSets(loaded.config.host, config);
  const sink = memorySink();
  renderBundle(loaded.config, compileRulesetStream(loaded.config, sets), templates, sink);
  return new Map([...sink.bundle()].map(([path, f]) => [path, f.content]));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gen-fw-templates-'));
  built = precompile(templatesDir);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('templates precompiled at build time', () => {
  it('are used for every file whose bytes they were made from', () => {
    expect(Object.keys(built.files).sort()).toEqual([...allFiles].sort());
    expect(loadTemplates(templatesDir, built).compiled).toEqual([]);
  });

  it.each(scenarios)('render %s to the same bytes as templates compiled at run time', async (scenario) => {
    const compiled = loadTemplates(templatesDir, null);
    expect(compiled.compiled).toEqual(allFiles);
    const a = await renderWith(scenario, loadTemplates(templatesDir, built).templates);
    const b = await renderWith(scenario, compiled.templates);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [path, content] of a) expect(content, path).toBe(b.get(path));
  });

  it('are what runs when the sha256 matches (the file itself is not compiled)', async () => {
    // A spec made from other text, filed under the real file's sha256.
    const other = precompile(editedTemplates('fragment.sh.hbs', (t) => t.replace('set -eu\n', 'set -eu\n# from the precompiled spec\n')));
    const table: PrecompiledTemplates = {
      ...built,
      files: { ...built.files, 'fragment.sh.hbs': { ...other.files['fragment.sh.hbs']!, sha256: built.files['fragment.sh.hbs']!.sha256 } },
    };
    const loaded = loadTemplates(templatesDir, table);
    expect(loaded.compiled).toEqual([]);
    const out = await renderWith('services', loaded.templates);
    expect(out.get('rootfs/opt/sbin/iptables_conf.d/iptables_web.sh')).toContain('set -eu\n# from the precompiled spec\n');
  });

  it('are not used for a template that differs from the one they were made from: that one is compiled', async () => {
    const dir = editedTemplates('fragment.sh.hbs', (t) => t + '# edited after the build\n');
    const loaded = loadTemplates(dir, built);
    expect(loaded.compiled).toEqual(['fragment.sh.hbs']);
    const edited = await renderWith('services', loaded.templates);
    const original = await renderWith('services', loadTemplates(templatesDir, built).templates);
    for (const [path, content] of original) {
      if (/iptables_conf\.d\/.*\.sh$/.test(path)) expect(edited.get(path), path).toBe(content + '# edited after the build\n');
      else if (path !== 'manifest.json' && !path.endsWith('iptables-init.prebuilt')) expect(edited.get(path), path).toBe(content);
    }
  });

  it('are not used for a partial that differs: every file that includes it shows the change', async () => {
    const dir = editedTemplates('partials/header.hbs', (t) => t.replace('Do not edit', 'Please do not edit'));
    const loaded = loadTemplates(dir, built);
    expect(loaded.compiled).toEqual(['partials/header.hbs']);
    const out = await renderWith('default', loaded.templates);
    expect(out.get('rootfs/opt/sbin/iptables-init')).toContain('# Please do not edit');
  });

  it('are not used at all when another Handlebars version made them', () => {
    expect(loadTemplates(templatesDir, { ...built, handlebars: '0.0.0' }).compiled).toEqual(allFiles);
  });

  it('are compiled with the options a render compiles with (a typo fails the render)', () => {
    expect(COMPILE_OPTIONS).toMatchObject({ noEscape: true, strict: true, knownHelpersOnly: true });
    const dir = editedTemplates('fragment.sh.hbs', (t) => t.replace('{{service}}', '{{servcie}}'));
    const { templates } = loadTemplates(dir, built);
    const data = { version: '0', what: 'x', inputs: [], service: 'x', description: '', fileName: 'x', sections: [] };
    expect(() => templates.get('fragment.sh')!(data)).toThrow(/"servcie" not defined/);
  });
});

describe('gen-fw render (the built CLI)', () => {
  /** A render, and which Handlebars build it loaded. */
  async function renderLoading(args: string[]): Promise<{ runtime: boolean; full: boolean; out: string }> {
    const hook = join(tmp, 'loaded-modules.mjs');
    writeFileSync(
      hook,
      "import { createRequire } from 'node:module';\n" +
        'const require = createRequire(import.meta.url);\n' +
        "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache)) + '\\n'));\n",
    );
    const out = mkdtempSync(join(tmp, 'out-'));
    const scenario = join(repoRoot, 'test/scenarios/services');
    const r = await execa(process.execPath, ['--import', hook, cli, 'render', '--out', join(out, 'fw'), ...args], {
      cwd: scenario,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const loaded = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as string[];
    return {
      runtime: loaded.some((p) => p.endsWith('handlebars.runtime.min.js')),
      full: loaded.some((p) => p.endsWith('handlebars.min.js')),
      out: join(out, 'fw'),
    };
  }

  it('renders with the precompiled templates and the runtime build of Handlebars only', async () => {
    const r = await renderLoading([]);
    expect(r).toMatchObject({ runtime: true, full: false });
    const golden = join(repoRoot, 'test/scenarios/services/expected/rootfs/opt/sbin/iptables_conf.d/iptables_web.sh');
    expect(readFileSync(join(r.out, 'rootfs/opt/sbin/iptables_conf.d/iptables_web.sh'), 'utf8')).toBe(readFileSync(golden, 'utf8'));
  });

  it.each([
    ['a syntax error', 'install.sh.hbs', (t: string) => t + '{{#if}}\n', /install\.sh\.hbs:\d+: not a valid template: Parse error/],
    [
      'an unknown helper',
      'fragment.sh.hbs',
      (t: string) => t + '{{nosuchhelper x}}\n',
      /fragment\.sh\.hbs: not a valid template: .*unknown helper nosuchhelper/,
    ],
  ])(
    'refuses --templates with %s (exit 2, the file named), and writes nothing, not even a parent directory',
    async (_, file, edit, message) => {
      const dir = editedTemplates(file, edit);
      const parent = join(mkdtempSync(join(tmp, 'out-')), 'new-parent');
      const scenario = join(repoRoot, 'test/scenarios/services');
      const r = await execa(process.execPath, [cli, 'render', '--templates', dir, '--out', join(parent, 'sub/fw')], {
        cwd: scenario,
        reject: false,
      });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/ at /);
      expect(existsSync(parent)).toBe(false);
    },
  );

  it('compiles --templates that are not the ones it was built with', async () => {
    const dir = editedTemplates('fragment.sh.hbs', (t) => t + '# edited after the build\n');
    const r = await renderLoading(['--templates', dir]);
    expect(r).toMatchObject({ runtime: false, full: true });
    const golden = join(repoRoot, 'test/scenarios/services/expected/rootfs/opt/sbin/iptables_conf.d/iptables_web.sh');
    expect(readFileSync(join(r.out, 'rootfs/opt/sbin/iptables_conf.d/iptables_web.sh'), 'utf8')).toBe(
      readFileSync(golden, 'utf8') + '# edited after the build\n',
    );
  });
});
