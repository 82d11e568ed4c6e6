import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EnvironmentError } from '../errors.js';
import type { KernelObservation } from '../explain/compare-kernel.js';
import type { Packet } from '../explain/packet.js';
import { addressIn } from '../explain/match-rule.js';
import { cleanUpOnInterrupt } from './interrupt.js';
import { lookupUser } from './users.js';

const run = promisify(execFile);
const packagedProbe = fileURLToPath(new URL('./probe.js', import.meta.url));

/**
 * The probe, copied where any user can read it: a packet sent `--user nobody` runs it as
 * nobody, who may not reach gen-fw's own files (a checkout under /root, a 0700 directory).
 */
function readableProbe(): { dir: string; probe: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-probe-'));
  chmodSync(dir, 0o755);
  const probe = join(dir, 'probe.mjs');
  copyFileSync(packagedProbe, probe);
  chmodSync(probe, 0o644);
  return { dir, probe };
}
const HOST_MAC = '02:00:00:67:66:01';
const PEER_MAC = '02:00:00:67:66:02';

/** Why the kernel proof cannot send this packet, or undefined when it can. */
export function kernelCannotSend(p: Packet): string | undefined {
  if (p.direction !== 'in' && p.direction !== 'out')
    return `--kernel sends packets in and out of the host; direction ${p.direction} is explained from the model only`;
  if (p.state !== 'new') return '--kernel sends new connections; --state established is explained from the model only';
  if (p.interface === 'lo') return '--kernel sends over a veth pair; --interface lo is explained from the model only';
  const odd = ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3', '::/127', 'ff00::/8', 'fe80::/10'];
  for (const a of [p.source, p.destination]) {
    if (odd.some((n) => (n.includes(':') ? a.includes(':') : !a.includes(':')) && addressIn(a, n)))
      return `--kernel cannot send from or to ${a} (loopback, multicast, link-local or unspecified)`;
  }
  if (p.source === p.destination) return '--kernel needs two different addresses (source and destination are the same)';
  return undefined;
}

/**
 * A scratch network namespace with the rendered ruleset loaded by the bundle's own
 * iptables-init, joined by a veth pair to a peer namespace that plays the rest of the world.
 * The root namespace is never touched; close() (and SIGINT or SIGTERM) removes everything.
 */
export class KernelLab {
  readonly host: string;
  readonly peer: string;
  private readonly peerIf: string;
  private hostIf: string | undefined;
  private closed = false;
  private readonly forget: () => void;

  private readonly probeCopy = readableProbe();

  private constructor(id: string) {
    this.host = `gfw-explain-${id}-h`;
    this.peer = `gfw-explain-${id}-p`;
    this.peerIf = `gfwp${id.slice(0, 8)}`;
    this.forget = cleanUpOnInterrupt(() => this.removeSync());
  }

  /** Create the namespaces and load the ruleset with `iptablesInit` (the rendered bundle's). */
  static async open(iptablesInit: string): Promise<KernelLab> {
    const lab = new KernelLab(randomBytes(4).toString('hex'));
    try {
      await lab.ip(['netns', 'add', lab.host]);
      await lab.ip(['netns', 'add', lab.peer]);
      for (const ns of [lab.host, lab.peer]) {
        await lab.sh(
          ns,
          'ip link set lo up; for k in all default; do sysctl -qw net.ipv6.conf.$k.accept_dad=0 net.ipv6.conf.$k.router_solicitations=0 2>/dev/null || true; done',
        );
      }
      const r = await lab.exec(lab.host, ['sh', iptablesInit], true);
      if (r.code !== 0)
        throw new EnvironmentError(
          `iptables-init could not load the ruleset into the scratch namespace (exit ${r.code}):\n${r.stderr.trim()}`,
        );
    } catch (e) {
      await lab.close();
      throw e;
    }
    return lab;
  }

  /** Send the packet for real and read what moved: each rule's packet counter, and what the other side saw. */
  async send(p: Packet): Promise<KernelObservation> {
    await this.wire(p);
    const save = p.family === 4 ? 'iptables' : 'ip6tables';
    // Every packet starts fresh: no connection, no rate-limit history, counters at zero.
    await this.sh(
      this.host,
      `conntrack -F >/dev/null 2>&1 || true; for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done; iptables -Z; ip6tables -Z; iptables -t raw -Z 2>/dev/null || true; ip6tables -t raw -Z 2>/dev/null || true`,
    );
    const from = p.direction === 'in' ? this.peer : this.host;
    const peer = await this.probe(from, p);
    const dump = await this.exec(this.host, [`${save}-save`, '-c']);
    return { moved: movedCounters(dump.stdout), peer };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    await run('ip', ['netns', 'del', this.host]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.peer]).catch(() => undefined);
    rmSync(this.probeCopy.dir, { recursive: true, force: true });
  }

  private removeSync(): void {
    this.closed = true;
    rmSync(this.probeCopy.dir, { recursive: true, force: true });
    for (const ns of [this.host, this.peer]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
  }

  /** The veth named as the packet's interface, the two addresses on their sides, routes and neighbours fixed. */
  private async wire(p: Packet): Promise<void> {
    if (this.hostIf !== p.interface) {
      if (this.hostIf) await this.exec(this.host, ['ip', 'link', 'del', this.hostIf]);
      await this.exec(this.host, [
        'ip',
        'link',
        'add',
        p.interface,
        'address',
        HOST_MAC,
        'type',
        'veth',
        'peer',
        'name',
        this.peerIf,
        'address',
        PEER_MAC,
        'netns',
        this.peer,
      ]);
      this.hostIf = p.interface;
      await this.exec(this.host, ['ip', 'link', 'set', p.interface, 'up']);
      await this.exec(this.peer, ['ip', 'link', 'set', this.peerIf, 'up']);
    }
    const [hostAddr, peerAddr] = p.direction === 'in' ? [p.destination, p.source] : [p.source, p.destination];
    const bits = p.family === 4 ? '32' : '128';
    const v = p.family === 4 ? '-4' : '-6';
    const side = async (ns: string, dev: string, mine: string, theirs: string, theirMac: string) => {
      await this.exec(ns, ['ip', 'addr', 'flush', 'dev', dev]);
      await this.exec(ns, ['ip', v, 'addr', 'add', `${mine}/${bits}`, 'dev', dev, ...(p.family === 6 ? ['nodad'] : [])]);
      await this.exec(ns, ['ip', v, 'route', 'replace', `${theirs}/${bits}`, 'dev', dev, 'src', mine]);
      await this.exec(ns, ['ip', v, 'neigh', 'replace', theirs, 'lladdr', theirMac, 'dev', dev, 'nud', 'permanent']);
    };
    await side(this.host, p.interface, hostAddr, peerAddr, PEER_MAC);
    await side(this.peer, this.peerIf, peerAddr, hostAddr, HOST_MAC);
  }

  private async probe(ns: string, p: Packet): Promise<KernelObservation['peer']> {
    const asUser = (argv: string[]) => {
      if (p.direction !== 'out' || p.user.uid === 0) return argv;
      const gid = p.user.gid ?? (p.user.name ? lookupUser(p.user.name)?.gid : undefined) ?? p.user.uid;
      return ['setpriv', `--reuid=${p.user.uid}`, `--regid=${gid}`, '--clear-groups', ...argv];
    };
    if (p.proto === 'tcp' || p.proto === 'udp') {
      const send = { proto: p.proto, source: p.source, destination: p.destination, sport: p.sport, dport: p.dport, timeoutMs: 700 };
      const r = await this.exec(ns, asUser([process.execPath, this.probeCopy.probe, JSON.stringify(send)]), true);
      const seen = r.stdout.trim();
      if (seen === 'answered' || seen === 'silent' || seen === 'blocked') return seen;
      throw new EnvironmentError(`could not send the packet in the scratch namespace: ${r.stderr.trim() || seen}`);
    }
    const r = await this.exec(
      ns,
      asUser(['ping', p.family === 4 ? '-4' : '-6', '-n', '-c', '1', '-W', '1', '-I', p.source, p.destination]),
      true,
    );
    if (r.code === 0 || /unreachable|prohibited/i.test(r.stdout)) return 'answered';
    return /not permitted|denied/i.test(r.stderr + r.stdout) ? 'blocked' : 'silent';
  }

  private async ip(args: string[]): Promise<void> {
    try {
      await run('ip', args);
    } catch (e) {
      throw new EnvironmentError(`ip ${args.join(' ')} failed: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    }
  }

  private sh(ns: string, script: string) {
    return this.exec(ns, ['sh', '-c', script]);
  }

  private async exec(ns: string, argv: string[], allowFailure = false): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 64 << 20 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
      if (allowFailure && typeof err.code === 'number') return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
      throw new EnvironmentError(`${argv.join(' ')} failed in namespace ${ns}: ${(err.stderr ?? err.message).trim()}`);
    }
  }
}

/**
 * `iptables-save -c`: each rule's (1-based, per chain) and each built-in policy's (0) packet
 * counter that is not zero, in the filter and raw tables (the others gen-fw does not write).
 */
export function movedCounters(dump: string): KernelObservation['moved'] {
  const out: KernelObservation['moved'] = [];
  const seen = new Map<string, number>();
  let table = '';
  for (const line of dump.split('\n')) {
    const header = /^\*(\S+)/.exec(line);
    if (header) {
      table = header[1]!;
      seen.clear();
      continue;
    }
    if (table !== 'filter' && table !== 'raw') continue;
    const at = table === 'raw' ? { table: 'raw' as const } : {};
    const policy = /^:(\S+) (ACCEPT|DROP) \[(\d+):\d+\]/.exec(line);
    if (policy) {
      if (Number(policy[3]) > 0) out.push({ ...at, chain: policy[1]!, position: 0 });
      continue;
    }
    const rule = /^\[(\d+):\d+\] -A (\S+)/.exec(line);
    if (!rule) continue;
    const n = (seen.get(rule[2]!) ?? 0) + 1;
    seen.set(rule[2]!, n);
    if (Number(rule[1]) > 0) out.push({ ...at, chain: rule[2]!, position: n });
  }
  return out;
}
