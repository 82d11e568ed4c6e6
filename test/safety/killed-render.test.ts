import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/render.js';
import { verifyBundle } from './support/tree.js';

/**
 * `gen-fw render` killed with SIGKILL at random moments leaves --out as the previous
 * complete bundle or the new complete one, never a mix: checked against manifest.json's
 * file list and digests. Half the kills are timed from the start of the process, half
 * from the moment the new bundle's temporary directory appears (the write phase).
 * GENFW_KILL_RUNS and GENFW_KILL_SEED change how many and where.
 */
const SERVICES = 2000;
const RUNS = Number(process.env.GENFW_KILL_RUNS ?? 20);
const SEED = Number(process.env.GENFW_KILL_SEED ?? 6);

/** A small seeded PRNG (mulberry32): the same kill points on every run of the suite. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir: string;
let out: string;
let parent: string;

function writeServices(confD: string, version: string): void {
  mkdirSync(confD);
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc${String(i).padStart(4, '0')}`;
    writeFileSync(
      join(confD, `${name}.yaml`),
      `description: service ${i}, ${version}\nrules:\n` +
        `  - { direction: in, proto: tcp, dport: ${1024 + i}, source: 10.${i % 250}.0.0/16, comment: "${name} ${version}" }\n` +
        `  - { direction: out, proto: udp, dport: [53, 123], destination: 192.0.2.${(i % 250) + 1} }\n`,
    );
  }
}

/** Whether a render (by pid) has started writing: its temporary sibling directory exists. */
function writing(pid: number | undefined): boolean {
  return readdirSync(parent).some((n) => n.startsWith(`.firewall.tmp-${pid}-`));
}

/** Run a render to completion; how long it took, and how long its write phase was. */
async function fullRender(confD: string): Promise<{ total: number; write: number }> {
  const start = performance.now();
  const child = execa(process.execPath, [cli, 'render', '--conf-d', confD, '--out', out], { cwd: dir, reject: false });
  let writeStart: number | undefined;
  let done = false;
  void child.finally(() => (done = true));
  while (!done) {
    if (writeStart === undefined && writing(child.pid)) writeStart = performance.now();
    await sleep(1);
  }
  const r = await child;
  expect(r.exitCode, r.stderr).toBe(0);
  const end = performance.now();
  return { total: end - start, write: end - (writeStart ?? end) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gfw-kill-'));
  writeServices(join(dir, 'conf-a'), 'v1');
  writeServices(join(dir, 'conf-b'), 'v2');
  parent = join(dir, 'build');
  out = join(parent, 'firewall');
  mkdirSync(parent);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a render killed at any moment leaves the previous bundle or the new one', () => {
  it(`survives ${RUNS} SIGKILLs at random points of a ${SERVICES}-service render`, { timeout: 900_000 }, async () => {
    const random = prng(SEED);
    console.log(`killed renders: seed ${SEED}, ${RUNS} runs (replay with GENFW_KILL_SEED=${SEED})`);
    const a = await fullRender('conf-a');
    const idA = verifyBundle(out);
    const b = await fullRender('conf-b');
    const idB = verifyBundle(out);
    expect(idB).not.toBe(idA);
    const total = Math.max(a.total, b.total);
    const write = Math.max(a.write, b.write, 1);

    const outcomes = { killedWhileWriting: 0, killedBefore: 0, finished: 0 };
    for (let i = 0; i < RUNS; i++) {
      const live = verifyBundle(out);
      const [target, want] = live === idA ? ['conf-b', idB] : ['conf-a', idA];
      const child = execa(process.execPath, [cli, 'render', '--conf-d', target, '--out', out], { cwd: dir, reject: false });
      let done = false;
      void child.finally(() => (done = true));
      if (i % 2 === 0) {
        await sleep(random() * total * 1.1);
      } else {
        while (!done && !writing(child.pid)) await sleep(1);
        await sleep(random() * write);
      }
      const wasWriting = writing(child.pid);
      child.kill('SIGKILL');
      const r = await child;

      const now = verifyBundle(out);
      expect([idA, idB], `run ${i}: --out is neither the previous bundle nor the new one`).toContain(now);
      if (r.signal === 'SIGKILL') {
        if (wasWriting) outcomes.killedWhileWriting++;
        else outcomes.killedBefore++;
      } else {
        expect(r.exitCode, r.stderr).toBe(0);
        expect(now).toBe(want);
        outcomes.finished++;
      }
    }
    console.log(`killed renders: ${JSON.stringify(outcomes)} (render ${Math.round(total)} ms, write phase ${Math.round(write)} ms)`);
    expect(outcomes.killedWhileWriting, 'too few kills landed while the bundle was being written').toBeGreaterThanOrEqual(RUNS / 4);

    // The next complete render clears what the killed ones left behind.
    const live = verifyBundle(out);
    await fullRender(live === idA ? 'conf-b' : 'conf-a');
    const target = readlinkSync(out);
    expect(readdirSync(parent).sort()).toEqual([target, 'firewall'].sort());
  });
});
