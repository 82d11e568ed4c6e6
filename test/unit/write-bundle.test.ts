import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, ExitError } from '../../src/errors.js';
import { emitBundle, writeBundle } from '../../src/emit/write-bundle.js';
import type { Bundle } from '../../src/render/bundle.js';

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), 'gen-fw-emit-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A bundle of these files and the manifest.json that lists them, as render makes it. */
function bundle(files: Record<string, string>): Bundle {
  const listed = Object.entries(files).map(([path, content]) => ({ path, mode: '0644', sha256: sha256(content) }));
  const manifest = JSON.stringify({ generator: 'gen-fw 0.0.0-test', files: listed }, null, 2) + '\n';
  const all: Array<[string, string]> = [...Object.entries(files), ['manifest.json', manifest]];
  return new Map(all.map(([p, content]) => [p, { content, mode: 0o644 }]));
}

/** The pid of a process that has ended. */
const deadPid = () => spawnSync('true').pid;

describe('files go into the staging directory as they are made', () => {
  it('writes each file and returns its sha256, also for text cut into slices (characters never split)', async () => {
    const slice = 1 << 20;
    // An emoji (two UTF-16 units) across the first cut, multi-byte characters across the second.
    const big = 'a'.repeat(slice - 1) + '😀' + 'é'.repeat(slice) + 'z';
    const sums: Record<string, string> = {};
    const out = join(tmp, 'slices', 'fw');
    await emitBundle(out, (sink) => {
      sums.big = sink.add('big.txt', big, 0o644);
      sums.small = sink.add('dir/small.sh', 'écho\n', 0o755);
    });
    expect(readFileSync(join(out, 'big.txt')).equals(Buffer.from(big, 'utf8'))).toBe(true);
    expect(sums.big).toBe(sha256(big));
    expect(sums.small).toBe(sha256('écho\n'));
    expect(statSync(join(out, 'dir/small.sh')).mode & 0o777).toBe(0o755);
  });
});

describe('--out is an ordinary directory, replaced whole', () => {
  it('is a real directory, with no hidden sibling left beside it', async () => {
    const parent = join(tmp, 'plain-dir');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: '1', y: '2' }), out);
    expect(lstatSync(out).isDirectory()).toBe(true);
    await writeBundle(bundle({ x: '1', y: '3' }), out);
    expect(lstatSync(out).isDirectory()).toBe(true);
    expect(readFileSync(join(out, 'y'), 'utf8')).toBe('3');
    expect(readdirSync(parent)).toEqual(['fw']);
  });

  it('keeps the bundle there, inodes and mtimes untouched, when the new one is the same', async () => {
    const parent = join(tmp, 'same');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: '1', 'd/y': '2' }), out);
    const stamp = () =>
      ['', 'x', 'd', 'd/y', 'manifest.json'].map((p) => `${statSync(join(out, p)).ino} ${statSync(join(out, p)).mtimeMs}`);
    const before = stamp();
    const r = await emitBundle(out, (sink) => {
      for (const [p, f] of bundle({ x: '1', 'd/y': '2' })) sink.add(p, f.content, f.mode);
    });
    expect(r.unchanged).toBe(true);
    expect(stamp()).toEqual(before);
    expect(readdirSync(parent)).toEqual(['fw']);
  });

  it('replaces a bundle whose file was edited, even with the same manifest', async () => {
    const out = join(tmp, 'edited', 'fw');
    await writeBundle(bundle({ x: '1' }), out);
    writeFileSync(join(out, 'x'), 'edited');
    const r = await emitBundle(out, (sink) => {
      for (const [p, f] of bundle({ x: '1' })) sink.add(p, f.content, f.mode);
    });
    expect(r.unchanged).toBe(false);
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('1');
  });

  it('uses an empty directory', async () => {
    const out = join(tmp, 'empty', 'fw');
    mkdirSync(out, { recursive: true });
    await writeBundle(bundle({ x: '1' }), out);
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('1');
  });

  it('leaves the previous bundle and no staging directory when rendering fails midway', async () => {
    const parent = join(tmp, 'fails');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: 'old' }), out);
    const failure = emitBundle(out, (sink) => {
      sink.add('x', 'new', 0o644);
      throw new Error('a template failed');
    });
    // A failure of ours, not of the environment: reported as what it is.
    await expect(failure).rejects.toThrow('a template failed');
    await expect(failure).rejects.not.toBeInstanceOf(EnvironmentError);
    expect(readdirSync(parent)).toEqual(['fw']);
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('old');
  });

  it('removes the directories it had to create when rendering fails', async () => {
    const parent = join(tmp, 'new-parent');
    const failure = emitBundle(join(parent, 'sub', 'fw'), (sink) => {
      sink.add('x', 'new', 0o644);
      throw new Error('a template failed');
    });
    await expect(failure).rejects.toThrow('a template failed');
    expect(existsSync(parent)).toBe(false);
  });

  it('reports a place it cannot write to as an environment failure', async () => {
    mkdirSync(join(tmp, 'plain'));
    writeFileSync(join(tmp, 'plain', 'x'), '');
    // plain/x is a file: nothing can be made below it.
    const failure = writeBundle(bundle({ x: '1' }), join(tmp, 'plain', 'x', 'fw'));
    await expect(failure).rejects.toBeInstanceOf(EnvironmentError);
    await expect(failure).rejects.toThrow(/cannot write/);
  });
});

describe('only a bundle gen-fw made is replaced', () => {
  it('refuses a bundle that gained a file during the render, and puts it back as it was', async () => {
    const parent = join(tmp, 'race');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: '1' }), out);
    const failure = emitBundle(out, (sink) => {
      writeFileSync(join(out, 'notes.txt'), 'mine');
      for (const [p, f] of bundle({ x: '2' })) sink.add(p, f.content, f.mode);
    });
    await expect(failure).rejects.toBeInstanceOf(ExitError);
    await expect(failure).rejects.toThrow(`${join(out, 'notes.txt')} is not in its manifest.json`);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('1');
    expect(readdirSync(parent)).toEqual(['fw']);
  });

  it('takes over the symlink layout of earlier versions (fw -> .fw.<16 hex>), leaving nothing of it', async () => {
    const parent = join(tmp, 'legacy');
    const old = join(parent, '.fw.0123456789abcdef');
    await writeBundle(bundle({ x: 'old' }), old);
    symlinkSync('.fw.0123456789abcdef', join(parent, 'fw'));
    await writeBundle(bundle({ x: 'new' }), join(parent, 'fw'));
    expect(lstatSync(join(parent, 'fw')).isDirectory()).toBe(true);
    expect(readFileSync(join(parent, 'fw', 'x'), 'utf8')).toBe('new');
    expect(readdirSync(parent)).toEqual(['fw']);
  });

  it('refuses any other symlink', async () => {
    const parent = join(tmp, 'other-link');
    await writeBundle(bundle({ x: 'old' }), join(parent, 'elsewhere'));
    symlinkSync('elsewhere', join(parent, 'fw'));
    await expect(writeBundle(bundle({ x: 'new' }), join(parent, 'fw'))).rejects.toThrow(
      'exists and is not a gen-fw bundle; nothing was written (a symbolic link)',
    );
    expect(readFileSync(join(parent, 'elsewhere', 'x'), 'utf8')).toBe('old');
    expect(readdirSync(parent).sort()).toEqual(['elsewhere', 'fw']);
  });
});

describe('a render killed between its two renames', () => {
  it('is recovered by the next render: the previous bundle goes back first, leftovers go', async () => {
    const parent = join(tmp, 'killed');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: 'old' }), out);
    // What a render killed after moving the previous bundle aside leaves: no fw at all.
    const pid = deadPid();
    renameSync(out, join(parent, `.fw.gen-fw-previous-${pid}-0badf00d`));
    mkdirSync(join(parent, `.fw.gen-fw-staging-${pid}-0badcafe`));
    writeFileSync(join(parent, `.fw.gen-fw-staging-${pid}-0badcafe`, 'x'), 'half');
    const r = await emitBundle(out, (sink) => {
      for (const [p, f] of bundle({ x: 'old' })) sink.add(p, f.content, f.mode);
    });
    expect(r).toMatchObject({ recovered: true, unchanged: true });
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('old');
    expect(readdirSync(parent)).toEqual(['fw']);
  });

  it('leaves the siblings of a render still running alone', async () => {
    const parent = join(tmp, 'running');
    const out = join(parent, 'fw');
    const busy = `.fw.gen-fw-staging-${process.ppid}-00000001`;
    mkdirSync(join(parent, busy), { recursive: true });
    await writeBundle(bundle({ x: '1' }), out);
    expect(readdirSync(parent).sort()).toEqual([busy, 'fw'].sort());
  });
});
