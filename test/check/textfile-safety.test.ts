import { execa } from 'execa';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../helpers/render.js';
import { renderCheckScript } from './run-check.js';

/**
 * Issue 19.3: iptables-check runs as root and writes its metrics into the textfile
 * directory. It writes only into a directory that belongs to the user running it and that
 * nobody else may write to, and never follows a link there: a symlink left at the final
 * name is replaced, its target untouched. A refused directory is a warning; the verdict
 * and its exit code stand. (Root only: nobody acts through setpriv.)
 */
const corpus = join(import.meta.dirname, 'corpus');
const nobody = 65534;
const asNobody = (cmd: string, args: string[]) =>
  execa('setpriv', [`--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', cmd, ...args]);

describe('iptables-check writes its metrics only into a textfile directory it can trust', () => {
  let project: Project;
  let script: string;
  let tmp: string;
  /** A file someone would like root to change: 0600, known contents. */
  let target: string;

  beforeAll(async () => {
    ({ project, script } = await renderCheckScript());
  });
  afterAll(() => project?.cleanup());

  let n = 0;
  const freshTmp = () => {
    tmp = mkdtempSync(join(tmpdir(), 'gen-fw-textfile-'));
    chmodSync(tmp, 0o755);
    target = join(tmp, 'target');
    writeFileSync(target, 'secret\n', { mode: 0o600 });
    return tmp;
  };
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const check = (dir: string, corpusCase = 'in-sync-v4') =>
    execa(
      'sh',
      [
        script,
        '--saved',
        join(corpus, corpusCase, 'saved'),
        '--live',
        join(corpus, corpusCase, 'live'),
        '--no-cache',
        '--textfile-dir',
        dir,
      ],
      {
        reject: false,
      },
    );
  const targetUntouched = () => {
    expect(statSync(target).mode & 0o7777, 'the target keeps its mode').toBe(0o600);
    expect(readFileSync(target, 'utf8'), 'the target keeps its contents').toBe('secret\n');
  };

  it('refuses a directory that belongs to another user: a warning, nothing changed, the verdict stands', async () => {
    freshTmp();
    const dir = join(tmp, `tf${++n}`);
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, nobody, nobody);
    // nobody plants links at the final name, and where a temporary file might go.
    await asNobody('ln', ['-s', target, join(dir, 'iptables-check.prom')]);
    await asNobody('ln', ['-s', target, join(dir, '.iptables-check.aaaaaa')]);
    const before = readdirSync(dir).sort();
    const r = await check(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('IPv4: in sync (31 rules)');
    expect(r.stderr).toContain(`iptables-check: warning: metrics not written: ${dir} does not belong to root (the user running the check)`);
    expect(readdirSync(dir).sort(), 'nothing made or removed there').toEqual(before);
    expect(lstatSync(join(dir, 'iptables-check.prom')).isSymbolicLink()).toBe(true);
    targetUntouched();
    // Drift is still drift (exit 1) with the metrics refused.
    const d = await check(dir, 'rule-added');
    expect(d.exitCode, d.stderr).toBe(1);
    expect(d.stderr).toContain('metrics not written');
    targetUntouched();
  });

  it.each([0o775, 0o757, 0o777, 0o1777])('refuses a directory of root that group or others may write (mode %o)', async (mode) => {
    freshTmp();
    const dir = join(tmp, `tf${++n}`);
    mkdirSync(dir);
    chmodSync(dir, mode);
    symlinkSync(target, join(dir, 'iptables-check.prom'));
    const r = await check(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`metrics not written: ${dir} may be written by group or others (chmod go-w ${dir})`);
    expect(readdirSync(dir)).toEqual(['iptables-check.prom']);
    expect(lstatSync(join(dir, 'iptables-check.prom')).isSymbolicLink()).toBe(true);
    targetUntouched();
  });

  it('replaces a symlink at iptables-check.prom with a regular file, and leaves its target alone', async () => {
    freshTmp();
    const dir = join(tmp, `tf${++n}`);
    mkdirSync(dir, { mode: 0o755 });
    symlinkSync(target, join(dir, 'iptables-check.prom'));
    const r = await check(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const prom = join(dir, 'iptables-check.prom');
    expect(lstatSync(prom).isFile(), 'a regular file now').toBe(true);
    expect(lstatSync(prom).mode & 0o7777).toBe(0o644);
    expect(readFileSync(prom, 'utf8')).toContain('gen_fw_drift_check_success 1');
    expect(readdirSync(dir)).toEqual(['iptables-check.prom']);
    targetUntouched();
  });

  it('replaces a symlink to a directory rather than moving the file into that directory', async () => {
    freshTmp();
    const dir = join(tmp, `tf${++n}`);
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(dir, { mode: 0o755 });
    mkdirSync(elsewhere, { mode: 0o755 });
    symlinkSync(elsewhere, join(dir, 'iptables-check.prom'));
    const r = await check(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(join(dir, 'iptables-check.prom')).isFile()).toBe(true);
    expect(readdirSync(elsewhere), 'nothing written into the linked directory').toEqual([]);
  });

  it('follows a textfile directory that is itself a symlink to a directory it can trust', async () => {
    freshTmp();
    const real = join(tmp, 'real');
    mkdirSync(real, { mode: 0o755 });
    symlinkSync(real, join(tmp, 'link'));
    const r = await check(join(tmp, 'link'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(real, 'iptables-check.prom'), 'utf8')).toContain('gen_fw_drift_check_success 1');
  });
});
