import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, publicTempDir } from './any-user.js';

const probe = fileURLToPath(new URL('./probe.mjs', import.meta.url));

export type Verdict = 'open' | 'refused' | 'filtered' | `error:${string}`;
export interface Check {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  source?: string;
  /** UDP only: bind this local port (a DHCP client talks from 68 to 67). */
  sourcePort?: number;
  timeout?: number;
}

/**
 * Two network namespaces joined by a veth pair: `host` (where the firewall goes) and
 * `peer` (the rest of the world). Documentation addresses only, assigned inside them:
 *   host  192.0.2.1/24  2001:db8::1/64
 *   peer  192.0.2.2/24, 192.0.2.100/24, 198.51.100.2/24 (extra)  2001:db8::2/64, 2001:db8::100/64
 * The root namespace is never touched; `cleanup()` deletes both namespaces (and so the veth).
 */
export class Bench {
  readonly host: string;
  readonly peer: string;
  readonly hostV4 = '192.0.2.1';
  readonly hostV6 = '2001:db8::1';
  readonly peerV4 = '192.0.2.2';
  readonly peerV4b = '192.0.2.100';
  readonly peerV6 = '2001:db8::2';
  readonly peerV6b = '2001:db8::100';
  private servers: ResultPromise[] = [];
  /** A copy of probe.mjs that other users can read (the checkout may be root's alone). */
  private publicProbe?: string;

  private constructor(readonly id: string) {
    this.host = `gfwt-${id}-h`;
    this.peer = `gfwt-${id}-p`;
  }

  static async create(): Promise<Bench> {
    const b = new Bench(randomBytes(4).toString('hex'));
    try {
      await b.setUp();
    } catch (e) {
      await b.cleanup();
      throw e;
    }
    return b;
  }

  private async setUp(): Promise<void> {
    const vh = `gv${this.id}h`;
    const vp = `gv${this.id}p`;
    await execa('ip', ['netns', 'add', this.host]);
    await execa('ip', ['netns', 'add', this.peer]);
    // Create the veth inside the host namespace, then move one end: nothing lands in the root namespace.
    await this.sh(this.host, `ip link add ${vh} type veth peer name ${vp} && ip link set ${vp} netns ${this.peer}`);
    await this.sh(
      this.host,
      `ip link set lo up && ip link set ${vh} up && ip addr add ${this.hostV4}/24 dev ${vh} && ip route add 198.51.100.0/24 dev ${vh} && ip -6 addr add ${this.hostV6}/64 dev ${vh} nodad`,
    );
    await this.sh(
      this.peer,
      `ip link set lo up && ip link set ${vp} up && ip addr add ${this.peerV4}/24 dev ${vp} && ip addr add ${this.peerV4b}/24 dev ${vp} && ` +
        `ip addr add 198.51.100.2/24 dev ${vp} && ip -6 addr add ${this.peerV6}/64 dev ${vp} nodad && ip -6 addr add ${this.peerV6b}/64 dev ${vp} nodad`,
    );
    // The host namespace gets its own /etc/iptables (ip netns exec bind-mounts it), so --save never writes the real one.
    mkdirSync('/etc/iptables', { recursive: true });
    mkdirSync(`/etc/netns/${this.host}/iptables`, { recursive: true });
  }

  /** The name of the host side of the veth (for interface-bound rules). */
  get hostIf(): string {
    return `gv${this.id}h`;
  }

  exec(ns: string, cmd: string, args: string[] = [], opts: { reject?: boolean; input?: string; env?: Record<string, string> } = {}) {
    return execa('ip', ['netns', 'exec', ns, cmd, ...args], { reject: opts.reject ?? true, input: opts.input, env: opts.env });
  }

  sh(ns: string, script: string, opts: { reject?: boolean } = {}) {
    return this.exec(ns, 'sh', ['-c', script], opts);
  }

  /** Listen on ports in a namespace until cleanup. */
  async serve(ns: string, specs: string[]): Promise<void> {
    const p = execa('ip', ['netns', 'exec', ns, process.execPath, probe, 'serve', ...specs], { reject: false, buffer: false });
    this.servers.push(p);
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      p.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      p.on('exit', () => reject(new Error(`probe server in ${ns} exited: ${stderr}`)));
    });
  }

  /** Try connections from a namespace (as root, or as the given uid); one verdict per check, in order. */
  async check(ns: string, checks: Check[], asUid?: number): Promise<Verdict[]> {
    const argv = [process.execPath, asUid === undefined ? probe : this.probeForAnyUser(), 'check', JSON.stringify(checks)];
    const cmd = asUid !== undefined ? [...asUser(asUid), ...argv] : argv;
    const r = await execa('ip', ['netns', 'exec', ns, ...cmd]);
    return JSON.parse(r.stdout) as Verdict[];
  }

  private probeForAnyUser(): string {
    if (!this.publicProbe) {
      const copy = join(publicTempDir('gen-fw-probe-'), 'probe.mjs');
      copyFileSync(probe, copy);
      chmodSync(copy, 0o644);
      this.publicProbe = copy;
    }
    return this.publicProbe;
  }

  async iptablesSave(family: 4 | 6 = 4): Promise<string> {
    const r = await this.exec(this.host, family === 4 ? 'iptables-save' : 'ip6tables-save');
    return r.stdout;
  }

  async cleanup(): Promise<void> {
    for (const s of this.servers) s.kill('SIGKILL');
    await Promise.allSettled(this.servers);
    await execa('ip', ['netns', 'del', this.host], { reject: false });
    await execa('ip', ['netns', 'del', this.peer], { reject: false });
    rmSync(`/etc/netns/${this.host}`, { recursive: true, force: true });
    if (this.publicProbe) rmSync(dirname(this.publicProbe), { recursive: true, force: true });
  }
}

/** The rules of a dump without comments and counters: what two dumps must agree on. */
export function rulesOf(dump: string): string[] {
  return dump
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]'));
}
