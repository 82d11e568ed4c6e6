import { existsSync } from 'node:fs';
import { link, mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { EnvironmentError, ExitError } from '../errors.js';
import { SCHEMA_FILES, type SchemaKind } from '../validate/json-schema.js';
import { packageRoot } from '../version.js';
import { hostYaml } from './init-host-yaml.js';
import type { Reporter } from './reporter.js';

/*
 * `gen-fw init [DIR]`: a project that renders at once. Text comes from the package's init/
 * folder (the example service, the expectations, the .gitignore) and packer/; gen-fw.yaml
 * is written from the validator's defaults (init-host-yaml.ts). No file is ever replaced:
 * each is written aside and hard-linked into place, which fails when the name exists.
 */

interface InitFile {
  /** Relative to DIR, `/`-separated. */
  path: string;
  text: string;
  mode: number;
}

/** The `# yaml-language-server: $schema=...` line for a YAML file at `file` (relative to dir). */
export function schemaLine(dir: string, file: string, kind: SchemaKind): string {
  // A project with gen-fw as a dependency points into node_modules, relative to the file,
  // so the line holds on every checkout; otherwise, the schemas of the gen-fw that ran.
  const local = join(dir, 'node_modules', 'gen-fw');
  const target = existsSync(local)
    ? relative(dirname(join(dir, file)), join(local, 'schema', SCHEMA_FILES[kind]))
    : join(packageRoot, 'schema', SCHEMA_FILES[kind]);
  return `# yaml-language-server: $schema=${target}`;
}

async function template(name: string): Promise<string> {
  return readFile(join(packageRoot, 'init', name), 'utf8');
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw new EnvironmentError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Whether DIR/conf.d already holds services: then it gets no example (it would open ports). */
async function hasServices(confD: string): Promise<boolean> {
  try {
    return (await readdir(confD)).some((n) => /\.ya?ml$/.test(n));
  } catch {
    return false;
  }
}

async function files(dir: string, withExample: boolean): Promise<InitFile[]> {
  const out: InitFile[] = [{ path: 'gen-fw.yaml', text: hostYaml(schemaLine(dir, 'gen-fw.yaml', 'host')), mode: 0o644 }];
  if (withExample) {
    out.push({
      path: 'conf.d/web.yaml',
      text: `${schemaLine(dir, 'conf.d/web.yaml', 'service')}\n${await template('conf.d/web.yaml')}`,
      mode: 0o644,
    });
  }
  out.push({
    path: 'expectations.yaml',
    text: `${schemaLine(dir, 'expectations.yaml', 'expectations')}\n${await template('expectations.yaml')}`,
    mode: 0o644,
  });
  // npm leaves files named .gitignore out of packages: the template is init/gitignore.
  out.push({ path: '.gitignore', text: await template('gitignore'), mode: 0o644 });
  const packer = join(packageRoot, 'packer');
  for (const name of (await readdir(packer)).sort()) {
    const s = await stat(join(packer, name));
    if (s.isFile()) out.push({ path: `packer/${name}`, text: await readFile(join(packer, name), 'utf8'), mode: s.mode & 0o777 });
  }
  return out;
}

/** Write `f` unless its name exists. Returns false when it was kept. */
async function writeNew(dir: string, f: InitFile): Promise<boolean> {
  const path = join(dir, f.path);
  const aside = join(dirname(path), `.${f.path.split('/').pop()}.gen-fw-init-${process.pid}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(aside, f.text, { mode: f.mode, flag: 'wx' });
    try {
      await link(aside, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR' || (e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ExitError(2, `cannot create ${path}: a file is in the way (${(e as Error).message})`);
    }
    throw new EnvironmentError(`cannot write ${path}: ${(e as Error).message}`);
  } finally {
    await unlink(aside).catch(() => {});
  }
}

export async function initCommand(dir: string, report: Reporter): Promise<number> {
  const kind = await isDirectory(dir);
  if (kind === false) throw new ExitError(2, `${dir} is not a directory: gen-fw init DIR makes a project in a directory`);
  if (kind === undefined) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new EnvironmentError(`cannot create ${dir}: ${(e as Error).message}`);
    }
  }
  // A conf.d with services of its own gets no example (it would open ports); a second init just keeps web.yaml.
  const keptConfD = (await hasServices(join(dir, 'conf.d'))) && !existsSync(join(dir, 'conf.d', 'web.yaml'));
  const planned = await files(dir, !keptConfD);
  // A file where a directory must go is found before anything is written.
  for (const sub of new Set(planned.map((f) => dirname(f.path)).filter((d) => d !== '.'))) {
    if ((await isDirectory(join(dir, sub))) === false) throw new ExitError(2, `${join(dir, sub)} is not a directory; nothing was written`);
  }
  const created: string[] = [];
  for (const f of planned) {
    if (await writeNew(dir, f)) created.push(f.path);
    else process.stderr.write(`kept existing ${f.path}\n`);
  }
  if (keptConfD) process.stderr.write('kept existing conf.d/ (it holds services, so no example was added)\n');
  const gitignore = await readFile(join(dir, '.gitignore'), 'utf8').catch(() => '');
  if (!created.includes('.gitignore') && !/^\/?build\/?$/m.test(gitignore)) {
    process.stderr.write('  .gitignore does not ignore build/: add a line "build/" (gen-fw render writes the bundle there)\n');
  }
  const schemas = join(packageRoot, 'schema');
  if (!existsSync(schemas))
    report.warnings([{ file: schemas, message: 'missing: the $schema lines point at it (run "gen-fw schema --out ' + schemas + '")' }]);
  for (const p of created) report.result(`created ${join(dir, p)}`);
  report.result(
    created.length
      ? `next: cd ${dir} && gen-fw render && gen-fw verify expectations.yaml`
      : `nothing to create: every file of a new project is already in ${dir}`,
  );
  return 0;
}
