import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where debootstrapped roots are kept between runs on one machine. */
export const cacheDir = process.env.GEN_FW_IMAGE_CACHE ?? '/var/cache/gen-fw-test';
const suite = 'bookworm';
const maxAgeDays = 30;

/**
 * The Debian mirror this machine's apt uses for `suite` (sources.list one-line or deb822
 * .sources), or GEN_FW_DEBIAN_MIRROR. Throws when there is none: the test must say so.
 */
export function debianMirror(): string {
  if (process.env.GEN_FW_DEBIAN_MIRROR) return process.env.GEN_FW_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list'];
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d))
    files.push(
      ...readdirSync(d)
        .filter((f) => /\.(list|sources)$/.test(f))
        .sort()
        .map((f) => join(d, f)),
    );
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const para of text.split(/\n\s*\n/)) {
        const field = (name: string) =>
          para
            .match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]
            ?.trim()
            .split(/\s+/) ?? [];
        if (field('Enabled')[0] === 'no' || !field('Types').includes('deb') || !field('Suites').includes(suite)) continue;
        const uri = field('URIs').find((u) => /^https?:\/\//.test(u) && !u.includes('security'));
        if (uri) return uri;
      }
    } else {
      for (const line of text.split('\n')) {
        const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
        if (m && m[2] === suite && /^https?:\/\//.test(m[1]!) && !m[1]!.includes('security')) return m[1]!;
      }
    }
  }
  throw new Error(`no Debian mirror for ${suite} in /etc/apt/sources.list(.d); set GEN_FW_DEBIAN_MIRROR`);
}

async function arch(): Promise<string> {
  return (await execa('dpkg', ['--print-architecture'])).stdout.trim();
}

/** Mount points at or below dir, deepest first (from this process's mount table). */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/**
 * Remove a root directory, but only once nothing is mounted below it (a bind of /dev
 * must never be deleted through). Unmounts what is left, lazily if it must.
 */
export async function removeRoot(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    const r = await execa('umount', [m], { reject: false });
    if (r.exitCode !== 0) await execa('umount', ['-l', m], { reject: false });
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`not removing ${dir}: still mounted: ${left.join(', ')}`);
  await execa('rm', ['-rf', '--one-file-system', dir]);
}

/**
 * What the cached root holds beyond debootstrap's minbase: enough to boot it with real
 * systemd (boot-systemd.test.ts) and to bring interfaces up with ifupdown, as a server
 * image would. The chroot tests (boot.test.ts) use the same root: one debootstrap a machine.
 */
export const bootPackages = ['systemd', 'systemd-sysv', 'ifupdown', 'cron', 'iproute2'];

/** Run fn while holding an exclusive flock(1) on path (another test file may be building the same cache). */
async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const holder = execa('flock', ['-w', '1800', path, 'sh', '-c', 'echo locked; exec cat'], { reject: false, buffer: false, stdin: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    holder.on('exit', (code) => reject(new Error(`could not lock ${path} (flock exit ${code})`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin?.end();
    await holder;
  }
}

/**
 * A tarball of a minimal Debian root (debootstrap --variant=minbase plus bootPackages),
 * built once per machine and kept in cacheDir; rebuilt when older than maxAgeDays or when
 * bootPackages change (they are part of its name). Cold, this costs one debootstrap from
 * the mirror: about 45 s on a fast mirror (a few minutes on a slow one) and a 250 MB tarball; warm, nothing.
 */
export async function cachedDebianTarball(log: (s: string) => void = () => {}): Promise<string> {
  const key = createHash('sha256').update(bootPackages.join(',')).digest('hex').slice(0, 8);
  const tarball = join(cacheDir, `debian-${suite}-minbase-${key}-${await arch()}.tar`);
  const fresh = () => existsSync(tarball) && Date.now() - statSync(tarball).mtimeMs < maxAgeDays * 86_400_000;
  if (fresh()) return tarball;
  mkdirSync(cacheDir, { recursive: true });
  return withFileLock(join(cacheDir, '.lock'), async () => {
    if (fresh()) return tarball; // another test file built it while we waited
    const mirror = debianMirror();
    const target = mkdtempSync(join(cacheDir, 'debootstrap-'));
    try {
      const include = `--include=${bootPackages.join(',')}`;
      log(`debootstrap --variant=minbase ${include} ${suite} from ${mirror} (cached in ${tarball})`);
      const r = await execa('debootstrap', ['--variant=minbase', include, suite, target, mirror], { reject: false, all: true });
      if (r.exitCode !== 0) {
        throw new Error(
          `debootstrap ${suite} from ${mirror} failed (exit ${r.exitCode}); is the mirror reachable?\n${r.all?.split('\n').slice(-15).join('\n')}`,
        );
      }
      const tmp = `${tarball}.tmp-${process.pid}`;
      await execa('tar', ['--numeric-owner', '-C', target, '-cf', tmp, '.']);
      renameSync(tmp, tarball);
    } finally {
      await removeRoot(target);
    }
    return tarball;
  });
}

export interface DebianRoot {
  dir: string;
  /** Unmount what mountLikePacker mounted, then delete the root. */
  cleanup(): Promise<void>;
}

/** A fresh Debian root from the cached tarball, with proc, sys and dev mounted as Packer's chroot builder does. */
export async function mountedDebianRoot(log?: (s: string) => void): Promise<DebianRoot> {
  const tarball = await cachedDebianTarball(log);
  const dir = mkdtempSync('/var/tmp/gen-fw-image-');
  const cleanup = async () => {
    for (const m of ['dev', 'sys', 'proc']) {
      const p = join(dir, m);
      if (mountsUnder(p).length > 0) await execa('umount', [p], { reject: false });
    }
    await removeRoot(dir);
  };
  try {
    await execa('tar', ['--numeric-owner', '-C', dir, '-xf', tarball]);
    await execa('mount', ['-t', 'proc', 'proc', join(dir, 'proc')]);
    await execa('mount', ['-t', 'sysfs', 'sysfs', join(dir, 'sys')]);
    await execa('mount', ['--bind', '/dev', join(dir, 'dev')]);
    // Nothing mounted below the image's /dev may propagate into this machine's /dev.
    await execa('mount', ['--make-rslave', join(dir, 'dev')]);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { dir, cleanup };
}
