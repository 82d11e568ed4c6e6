import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/errors.js';
import { emitBundle, writeBundle } from '../../src/emit/write-bundle.js';
import type { Bundle } from '../../src/render/bundle.js';

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), 'gen-fw-emit-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const bundle = (files: Record<string, string>): Bundle => new Map(Object.entries(files).map(([p, content]) => [p, { content, mode: 0o644 }]));

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

  it('names the bundle after its content: the same files, the same name', async () => {
    const a = join(tmp, 'a', 'fw');
    const b = join(tmp, 'b', 'fw');
    await writeBundle(bundle({ x: '1', y: '2' }), a);
    await writeBundle(bundle({ x: '1', y: '2' }), b);
    expect(readlinkSync(a)).toBe(readlinkSync(b));
    await writeBundle(bundle({ x: '1', y: '3' }), b);
    expect(readlinkSync(a)).not.toBe(readlinkSync(b));
  });

  it('keeps the live bundle, files untouched, when the new one is the same', async () => {
    const out = join(tmp, 'same', 'fw');
    await writeBundle(bundle({ x: '1' }), out);
    const before = { link: readlinkSync(out), ino: statSync(join(out, 'x')).ino };
    await writeBundle(bundle({ x: '1' }), out);
    expect({ link: readlinkSync(out), ino: statSync(join(out, 'x')).ino }).toEqual(before);
    expect(readdirSync(join(tmp, 'same')).sort()).toEqual([before.link, 'fw'].sort());
  });

  it('leaves the previous bundle and no staging directory when rendering fails midway', async () => {
    const parent = join(tmp, 'fails');
    const out = join(parent, 'fw');
    await writeBundle(bundle({ x: 'old' }), out);
    const live = readlinkSync(out);
    const failure = emitBundle(out, (sink) => {
      sink.add('x', 'new', 0o644);
      throw new Error('a template failed');
    });
    // A failure of ours, not of the environment: reported as what it is.
    await expect(failure).rejects.toThrow('a template failed');
    await expect(failure).rejects.not.toBeInstanceOf(EnvironmentError);
    expect(readdirSync(parent).sort()).toEqual([live, 'fw'].sort());
    expect(readFileSync(join(out, 'x'), 'utf8')).toBe('old');
  });

  it('removes the directories it had to create when rendering fails before the first swap', async () => {
    const parent = join(tmp, 'new-parent');
    const failure = emitBundle(join(parent, 'sub', 'fw'), (sink) => {
      sink.add('x', 'new', 0o644);
      throw new Error('a template failed');
    });
    await expect(failure).rejects.toThrow('a template failed');
    expect(existsSync(parent)).toBe(false);
  });

  it('reports a place it cannot write to as an environment failure', async () => {
    await writeBundle(bundle({ x: '1' }), join(tmp, 'plain'));
    // plain/x is a file: nothing can be made below it.
    const failure = writeBundle(bundle({ x: '1' }), join(tmp, 'plain', 'x', 'fw'));
    await expect(failure).rejects.toBeInstanceOf(EnvironmentError);
    await expect(failure).rejects.toThrow(/cannot write/);
  });
});
