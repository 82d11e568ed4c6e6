import { execa, execaSync, type ResultPromise } from 'execa';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from './netns.js';

/** Debian's docker.io (20.10): /usr/local/bin/docker on this image may be another CLI. */
export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';
export const BUSYBOX = '/bin/busybox';
export const IMAGE = 'local/bb';
export const METADATA = '169.254.169.254';

/** Whether this machine can run the real-daemon tests (CI installs docker.io and busybox-static). */
export const haveDockerd = existsSync(DOCKERD) && existsSync(DOCKER) && existsSync(BUSYBOX) && process.getuid?.() === 0;

/** What a container's `nc` saw: data back, refused (RST or an ICMP reject), or nothing before the timeout. */
export type NcVerdict = 'open' | 'refused' | 'filtered' | `error:${string}`;

const CGROUP_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

/**
 * The mounts dockerd needs inside `ip netns exec` (which mounts a fresh sysfs, so no
 * cgroups): a tmpfs on /sys/fs/cgroup with the v1 hierarchies and cgroup2 on `unified`,
 * a tmpfs on /run, our own /etc/docker. All of it in the private mount namespace that
 * `ip netns exec` made; nothing lands in the root one.
 */
function dockerdScript(): string {
  return [
    'set -eu',
    'mount --make-rprivate /',
    'mount -t tmpfs cgroup /sys/fs/cgroup',
    `for c in ${CGROUP_V1.join(' ')}; do mkdir /sys/fs/cgroup/$c; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c; done`,
    'mkdir /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd',
    'mkdir /sys/fs/cgroup/unified; mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified',
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /etc/docker; mount --bind "$GFWT_DIR/etc-docker" /etc/docker',
    'exec "$@"',
  ].join('\n');
}

/**
 * A Docker host: the Bench's host namespace with a real dockerd in it, the Bench's peer
 * namespace as the world (and, on its `lo`, the metadata stand-in 169.254.169.254/32,
 * routed to from the host namespace). Every daemon file lives under `dir`:
 *   data/ exec/ etc-docker/ docker.sock dockerd.pid dockerd.log   the daemon's
 *   gfw-run/ gfw-lib/   bound over /run and /var/lib/gen-fw whenever iptables-init or
 *                       iptables-check runs here, so their lock and state are this namespace's
 */
export class DockerHost {
  readonly dir: string;
  readonly sock: string;
  private daemon?: ResultPromise;
  private pid?: number;

  private constructor(readonly bench: Bench) {
    this.dir = mkdtempSync(join(tmpdir(), 'gfwt-dockerd-'));
    this.sock = join(this.dir, 'docker.sock');
    for (const d of ['data', 'exec', 'etc-docker', 'gfw-run', 'gfw-lib']) mkdirSync(join(this.dir, d));
  }

  static async create(): Promise<DockerHost> {
    const bench = await Bench.create();
    const h = new DockerHost(bench);
    try {
      await bench.sh(bench.peer, `ip addr add ${METADATA}/32 dev lo`);
      await bench.sh(bench.host, `ip route add ${METADATA}/32 via ${bench.peerV4}`);
      // iptables-init binds its state over these; the mount point must exist.
      mkdirSync('/var/lib/gen-fw', { recursive: true });
    } catch (e) {
      await h.cleanup();
      throw e;
    }
    return h;
  }

  get ns(): string {
    return this.bench.host;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Start dockerd in the host namespace; resolves once `docker info` answers. */
  async start(deadlineMs = 60_000): Promise<void> {
    if (this.daemon) throw new Error('dockerd is already running');
    const d = this.dir;
    const args = [
      '--data-root',
      join(d, 'data'),
      '--exec-root',
      join(d, 'exec'),
      '--pidfile',
      join(d, 'dockerd.pid'),
      '-H',
      `unix://${this.sock}`,
      '--storage-driver',
      'overlay2',
      '--exec-opt',
      'native.cgroupdriver=cgroupfs',
      '--cgroup-parent',
      `/${this.ns}`,
      '--shutdown-timeout',
      '2',
    ];
    rmSync(join(d, 'dockerd.pid'), { force: true });
    const log = join(d, 'dockerd.log');
    const p = execa('ip', ['netns', 'exec', this.ns, 'sh', '-c', dockerdScript(), 'gfwt-dockerd', DOCKERD, ...args], {
      reject: false,
      env: { GFWT_DIR: d },
      stdin: 'ignore',
      stdout: { file: log, append: true },
      stderr: { file: log, append: true },
    });
    this.daemon = p;
    let exited = false;
    void p.then(() => (exited = true));
    const end = Date.now() + deadlineMs;
    for (;;) {
      if (exited) {
        this.daemon = undefined;
        throw new Error(`dockerd exited while starting:\n${this.log()}`);
      }
      const info = await this.docker(['info', '--format', '{{.ServerVersion}}'], { reject: false });
      if (info.exitCode === 0) break;
      if (Date.now() > end) {
        await this.stop();
        throw new Error(`dockerd did not answer within ${deadlineMs} ms:\n${this.log()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.pid = Number(readFileSync(join(d, 'dockerd.pid'), 'utf8').trim());
  }

  /** SIGTERM dockerd by its PID and wait for it to exit (it stops its containers first). */
  async stop(): Promise<void> {
    const p = this.daemon;
    if (!p) return;
    const pid = this.pid ?? p.pid;
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await p;
    clearTimeout(killer);
    this.daemon = undefined;
    this.pid = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  log(): string {
    const f = join(this.dir, 'dockerd.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
  }

  /** The docker client, talking to this daemon only. */
  docker(args: string[], opts: { reject?: boolean; input?: string | Buffer; timeout?: number } = {}) {
    return execa(DOCKER, ['-H', `unix://${this.sock}`, ...args], {
      reject: opts.reject ?? true,
      input: opts.input,
      timeout: opts.timeout ?? 60_000,
    });
  }

  /** Import the busybox image (see buildImage) as local/bb. */
  async importImage(tarball: string): Promise<void> {
    await this.docker(['import', tarball, IMAGE]);
  }

  /** `docker network create`; `bridge` names the Linux bridge (else Docker calls it br-<id>). */
  async createNetwork(name: string, opts: { bridge?: string; subnet?: string } = {}): Promise<void> {
    const args = ['network', 'create'];
    if (opts.bridge) args.push('--opt', `com.docker.network.bridge.name=${opts.bridge}`);
    if (opts.subnet) args.push('--subnet', opts.subnet);
    await this.docker([...args, name]);
  }

  /** A container serving /www with busybox httpd on port 80; returns its address on its network. */
  async runWeb(name: string, opts: { network?: string; publish?: string[]; restart?: 'always' | 'unless-stopped' } = {}): Promise<string> {
    const args = ['run', '-d', '--name', name];
    if (opts.network) args.push('--network', opts.network);
    // Without a restart policy a dockerd restart leaves the container stopped (and its rules gone).
    if (opts.restart) args.push('--restart', opts.restart);
    for (const p of opts.publish ?? []) args.push('-p', p);
    await this.docker([...args, IMAGE, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    const ip = await this.docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);
    return ip.stdout.trim();
  }

  exec(name: string, cmd: string[], opts: { reject?: boolean } = {}) {
    return this.docker(['exec', name, ...cmd], { reject: opts.reject ?? false });
  }

  /** A TCP connection from inside a container with busybox `nc -w 3`; the peer's probe servers answer "ok". */
  async connect(name: string, host: string, port: number): Promise<NcVerdict> {
    const r = await this.exec(name, ['sh', '-c', `nc -w 3 ${host} ${port} </dev/null`]);
    if (r.stdout.trim().length > 0) return 'open';
    if (/refused|unreachable|no route/i.test(r.stderr)) return 'refused';
    if (/timed out/i.test(r.stderr) || r.exitCode !== 0) return 'filtered';
    return `error:${r.exitCode} ${r.stderr.trim()}`;
  }

  async removeContainers(): Promise<void> {
    const ids = await this.docker(['ps', '-aq'], { reject: false });
    const list = ids.stdout.split('\n').filter(Boolean);
    if (list.length) await this.docker(['rm', '-f', ...list], { reject: false });
  }

  /**
   * Run a command in the host namespace with this namespace's own /run and
   * /var/lib/gen-fw (bind mounts in the private mount namespace of `ip netns exec`).
   */
  gfw(cmd: string[], opts: { reject?: boolean; env?: Record<string, string> } = {}) {
    const script = 'set -eu; mount --bind "$GFWT_DIR/gfw-run" /run; mount --bind "$GFWT_DIR/gfw-lib" /var/lib/gen-fw; exec "$@"';
    return execa('ip', ['netns', 'exec', this.ns, 'sh', '-c', script, 'gfwt-gfw', ...cmd], {
      reject: opts.reject ?? true,
      env: { ...opts.env, GFWT_DIR: this.dir },
    });
  }

  /** iptables-init of a rendered project, applied here. */
  applyInit(init: string, args: string[] = []) {
    return this.gfw(['sh', init, ...args]);
  }

  /** iptables-check of a rendered project, with a stub logger so drift found here never reaches syslog. */
  async check(script: string) {
    const stubs = join(this.dir, 'stubs');
    if (!existsSync(stubs)) {
      mkdirSync(stubs);
      writeFileSync(join(stubs, 'logger'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(stubs, 'logger'), 0o755);
    }
    return this.gfw(['sh', script, '--no-textfile'], {
      reject: false,
      env: { PATH: `${stubs}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
  }

  /** Remove containers, stop dockerd, kill what it left, delete the namespaces, rmdir its cgroups, drop its files. */
  async cleanup(): Promise<void> {
    try {
      if (this.daemon) {
        await this.removeContainers().catch(() => {});
        await this.stop();
      }
    } finally {
      killLeftovers(this.dir);
      await this.bench.cleanup();
      removeCgroups(`/${this.ns}`);
      unmountUnder(this.dir);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A container shim (or a managed containerd) our daemon started and that outlived it: found by our unique directory in its command line. */
function killLeftovers(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes(dir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** rmdir the cgroup directories named after --cgroup-parent, deepest first, in every hierarchy. */
function removeCgroups(parent: string): void {
  const rmTree = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try {
      rmdirSync(d); // rmdir(2): a cgroup directory is removed whole, its files with it
    } catch {
      /* busy: a process is still in it */
    }
  };
  for (const h of [...CGROUP_V1, 'systemd', 'unified']) rmTree(join('/sys/fs/cgroup', h, parent));
}

/** Anything mounted under our directory in the root mount namespace (nothing should be). */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) execaSync('umount', ['-l', m], { reject: false });
}

/**
 * The image's root: busybox-static plus the applets the tests use, and /www for httpd.
 * Returns a tarball for `docker import`, built once per test file.
 */
export async function buildImage(): Promise<{ tarball: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'gfwt-bb-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'www'));
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'nc', 'httpd', 'sleep', 'cat', 'ls']) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'www/index.html'), 'gen-fw test container\n');
  const tarball = join(dir, 'bb.tar');
  await execa('tar', ['-C', root, '-cf', tarball, '.']);
  return { tarball, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
