// Shared helpers for the benchmarks: timing, statistics, network namespaces, temp dirs.
// Every namespace made here is named gfwb-<random>-<tag> and deleted on exit (also on
// Ctrl-C); nothing here touches the root namespace's firewall.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/bin/gen-fw.js');
export const NODE = process.execPath;

const namespaces = new Set();
const tempDirs = new Set();

/** A fresh temp dir, removed at exit. */
export function tempDir(tag) {
  const d = mkdtempSync(join(tmpdir(), `gfwb-${tag}-`));
  tempDirs.add(d);
  return d;
}

/** Create a network namespace of our own (with loopback up); returns its name. */
export async function netnsAdd(tag) {
  const name = `gfwb-${randomBytes(3).toString('hex')}-${tag}`;
  await execa('ip', ['netns', 'add', name]);
  namespaces.add(name);
  await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export async function netnsDel(name) {
  if (!namespaces.has(name)) return;
  namespaces.delete(name);
  await execa('ip', ['netns', 'del', name], { reject: false });
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
}

/**
 * Make `ip netns exec NAME ...` see the iptables-legacy binaries as iptables, ip6tables
 * and their -save/-restore: ip netns exec bind-mounts /etc/netns/NAME/* over /etc/*, so a
 * copy of /etc/alternatives with the iptables links pointed at the legacy binaries does
 * it for everything run inside, including iptables-init (which resets PATH, so a PATH
 * of symlinks would not reach it).
 */
export async function useLegacyIn(name) {
  const alt = `/etc/netns/${name}/alternatives`;
  mkdirSync(`/etc/netns/${name}`, { recursive: true });
  await execa('cp', ['-a', '/etc/alternatives', alt]);
  for (const f of ['iptables', 'ip6tables']) {
    for (const s of ['', '-save', '-restore']) {
      await execa('ln', ['-sfn', `/usr/sbin/${f}-legacy${s}`, `${alt}/${f}${s}`]);
    }
  }
}

/** Run a command inside a namespace. */
export function inNs(name, cmd, args = [], opts = {}) {
  return execa('ip', ['netns', 'exec', name, cmd, ...args], opts);
}

export async function cleanup() {
  for (const n of [...namespaces]) await netnsDel(n);
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

let hooked = false;
export function cleanupOnSignals() {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, deleting namespaces ${[...namespaces].join(' ') || '(none)'}`);
      cleanup().finally(() => process.exit(130));
    });
  }
}

/** Wall-clock seconds of one run of fn. */
export async function timeOnce(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Statistics of a list of samples. */
export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n, samples };
}

/**
 * Run a command under /usr/bin/time and return { seconds, maxRssKb }. Wall time is
 * measured here (performance.now around the process); the peak resident set size comes
 * from time's %M (kilobytes). Without /usr/bin/time, maxRssKb is undefined.
 */
export async function timedProcess(cmd, args, opts = {}) {
  const haveTime = existsSync('/usr/bin/time');
  const out = haveTime ? join(tempDir('time'), 'out') : undefined;
  const t = performance.now();
  const r = haveTime
    ? await execa('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { reject: false, ...opts })
    : await execa(cmd, args, { reject: false, ...opts });
  const seconds = (performance.now() - t) / 1000;
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.exitCode}\n${String(r.stderr).slice(0, 2000)}`);
  const maxRssKb = out ? Number(readFileSync(out, 'utf8').trim().split('\n').pop()) : undefined;
  return { seconds, maxRssKb };
}

export function has(cmd) {
  return execa('sh', ['-c', `command -v ${cmd}`], { reject: false }).then((r) => r.exitCode === 0);
}

export function fmtInt(n) {
  return n.toLocaleString('en-US');
}

/** A shuffle-free round robin: run each variant once per repetition, in turn. */
export async function interleave(reps, variants, fn) {
  const out = Object.fromEntries(variants.map((v) => [v, []]));
  for (let i = 0; i < reps; i++) for (const v of variants) out[v].push(await fn(v, i));
  return out;
}
