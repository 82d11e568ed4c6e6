import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inspect } from './existing-bundle.js';

type Kind = 'staging' | 'previous';

/**
 * The hidden siblings a render of --out B makes in B's directory, and what the next render
 * does with those a killed one left:
 *   .B.gen-fw-staging-PID-X   the new bundle being written (removed once PID is gone);
 *   .B.gen-fw-previous-PID-X  the previous bundle, moved aside for the swap (put back when
 *                             B is missing, removed otherwise, once PID is gone).
 * The PID keeps a render from touching the siblings of another one still running.
 */
export class Siblings {
  readonly out: string;
  readonly parent: string;
  private readonly prefix: string;

  constructor(outDir: string) {
    this.out = resolve(outDir);
    this.parent = dirname(this.out);
    this.prefix = `.${basename(this.out)}.gen-fw-`;
  }

  /** A fresh name of this render's. */
  name(kind: Kind): string {
    return join(this.parent, `${this.prefix}${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** The siblings that renders no longer running left behind. */
  private leftovers(): { path: string; kind: Kind }[] {
    let names: string[];
    try {
      names = readdirSync(this.parent);
    } catch {
      return [];
    }
    const found: { path: string; kind: Kind }[] = [];
    for (const name of names) {
      if (!name.startsWith(this.prefix)) continue;
      const m = /^(staging|previous)-(\d+)-[0-9a-f]+$/.exec(name.slice(this.prefix.length));
      if (m && !running(Number(m[2]))) found.push({ path: join(this.parent, name), kind: m[1] as Kind });
    }
    return found;
  }

  /**
   * --out is missing: when a killed render left the previous bundle aside (whole: it is
   * looked at again), put it back. Returns whether it did.
   */
  async recover(): Promise<boolean> {
    const candidates = this.leftovers()
      .filter((s) => s.kind === 'previous')
      .filter((s) => ['bundle', 'legacy'].includes(inspect(s.path, basename(this.out)).kind))
      .map((s) => ({ ...s, changed: lstatSync(s.path).ctimeMs }))
      .sort((a, b) => b.changed - a.changed);
    if (!candidates.length) return false;
    await rename(candidates[0]!.path, this.out);
    return true;
  }

  /** Remove what killed renders left (--out is in place by now). */
  async removeLeftovers(): Promise<void> {
    for (const s of this.leftovers()) {
      const found = s.kind === 'previous' ? inspect(s.path, basename(this.out)) : undefined;
      if (found?.kind === 'legacy') await rm(found.target, { recursive: true, force: true });
      await rm(s.path, { recursive: true, force: true });
    }
  }
}

/** Whether a process is running (ours included). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
