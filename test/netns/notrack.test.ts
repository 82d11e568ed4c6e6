import { execa, type ResultPromise } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { NOBODY } from '../helpers/any-user.js';
import { describeFirewall } from '../helpers/firewall.js';
import { rulesOf, type Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * notrack: a DNS-like service on tcp and udp 5300 that skips conntrack, open to a /28 and a
 * /120; SSH (tracked) beside it. conntrack_limits: the per-namespace timeouts are set in the
 * test's namespace, nf_conntrack_max only noted (it belongs to the initial namespace).
 * A udp notrack port (5301) whose source holds the metadata address: its replies may go
 * there, but not past the metadata block (root only).
 */
const PORT = 5300;
const LINK_LOCAL_PORT = 5301;
const METADATA = '169.254.169.254';
const DENIED_V4 = '192.0.2.3';
const DENIED_V6 = '2001:db8::3';

/** The packet counters of the rules of one chain that hold `needle`, from iptables-save -c. */
async function counters(b: Bench, family: 4 | 6, chain: string, needle: string): Promise<number[]> {
  const cmd = family === 4 ? 'iptables-save' : 'ip6tables-save';
  const dump = (await b.exec(b.host, cmd, ['-c'])).stdout.split('\n');
  return dump.filter((l) => l.includes(`-A ${chain} `) && l.includes(needle)).map((l) => Number(/^\[(\d+):/.exec(l)?.[1] ?? NaN));
}

/** iptables-check in the host namespace, after --save; a stub logger keeps a drift out of the machine's syslog. */
async function driftCheck(b: Bench, p: Project) {
  const save = await b.exec(b.host, 'sh', [p.init, '--save'], { reject: false });
  expect(save.exitCode, save.stderr).toBe(0);
  const stubs = mkdtempSync(join(tmpdir(), 'gen-fw-notrack-stubs-'));
  try {
    writeFileSync(join(stubs, 'logger'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(stubs, 'logger'), 0o755);
    const env = { PATH: `${stubs}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
    return await b.exec(b.host, 'sh', [join(p.sbin, 'iptables-check'), '--no-textfile'], { reject: false, env });
  } finally {
    rmSync(stubs, { recursive: true, force: true });
  }
}

describeFirewall(
  'a notrack service (raw table, stateless accept, untracked replies)',
  {
    // max differs from the kernel's default, so that the note about it is due.
    // A deny list that holds an address inside the notrack rules' source: it must still win.
    host: `conntrack_limits: { max: 131072, tcp_timeout_established: 300, udp_timeout: 25 }\ndeny: { source: [${DENIED_V4}, "${DENIED_V6}"] }\n`,
    services: () => ({
      'dns.yaml': `rules:
  - { direction: in, proto: udp, dport: ${PORT}, source: [192.0.2.0/28, "2001:db8::/120"], notrack: true }
  - { direction: in, proto: tcp, dport: ${PORT}, source: [192.0.2.0/28, "2001:db8::/120"], notrack: true }
  - { direction: in, proto: udp, dport: ${LINK_LOCAL_PORT}, source: [169.254.0.0/16], notrack: true }
`,
    }),
  },
  ({ bench, project }) => {
    const held: ResultPromise[] = [];
    afterAll(async () => {
      for (const p of held) p.kill('SIGKILL');
      await Promise.allSettled(held);
    });

    it('is reachable over both families from inside source, filtered from outside it', async () => {
      const b = bench();
      await b.serve(b.host, [`tcp:${PORT}`, `udp:${PORT}`]);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'tcp', host: b.hostV6, port: PORT, source: b.peerV6 },
        { proto: 'udp', host: b.hostV6, port: PORT, source: b.peerV6 },
        { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4b },
        { proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4b },
        { proto: 'tcp', host: b.hostV6, port: PORT, source: b.peerV6b },
        { proto: 'udp', host: b.hostV6, port: PORT, source: b.peerV6b },
      ]);
      expect(v).toEqual(['open', 'open', 'open', 'open', 'filtered', 'filtered', 'filtered', 'filtered']);
    });

    it('accepts them on the fast path (GFW-INPUT-UNTRACKED, right after the deny list), never in the service chain', async () => {
      const b = bench();
      // The servers of the first test still listen.
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'tcp', host: b.hostV6, port: PORT, source: b.peerV6 },
        { proto: 'udp', host: b.hostV6, port: PORT, source: b.peerV6 },
      ]);
      expect(v).toEqual(['open', 'open', 'open', 'open']);
      for (const family of [4, 6] as const) {
        for (const proto of ['tcp', 'udp']) {
          const fast = await counters(b, family, 'GFW-INPUT-UNTRACKED', `-p ${proto} -m ${proto} --dport ${PORT} `);
          expect(fast, `IPv${family} ${proto}`).toHaveLength(1);
          expect(fast[0], `IPv${family} ${proto}`).toBeGreaterThan(0);
          expect(await counters(b, family, 'GFW-I-dns', `-p ${proto} -m ${proto} --dport ${PORT} `), `IPv${family} ${proto}`).toEqual([0]);
        }
        const input = (await b.iptablesSave(family)).split('\n').filter((l) => l.startsWith('-A GFW-INPUT '));
        const at = (tag: string) => input.findIndex((l) => l.includes(`"gen-fw: ${tag}"`));
        expect(at('untracked'), input.join('\n')).toBeGreaterThan(at('deny'));
        expect(at('untracked')).toBeLessThan(at('services'));
      }
    });

    it('drops a deny-list member even inside the notrack source, both families', async () => {
      const b = bench();
      await b.sh(b.peer, `ip addr add ${DENIED_V4}/24 dev gv${b.id}p && ip -6 addr add ${DENIED_V6}/64 dev gv${b.id}p nodad`);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: PORT, source: DENIED_V4 },
        { proto: 'udp', host: b.hostV4, port: PORT, source: DENIED_V4 },
        { proto: 'tcp', host: b.hostV6, port: PORT, source: DENIED_V6 },
        { proto: 'udp', host: b.hostV6, port: PORT, source: DENIED_V6 },
        { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4 },
      ]);
      expect(v).toEqual(['filtered', 'filtered', 'filtered', 'filtered', 'open']);
    });

    it('leaves nothing in the conntrack table for that port while an SSH connection is tracked', { timeout: 90_000 }, async () => {
      const b = bench();
      // An SSH-port server that keeps its connections open, and one connection to it held
      // from the peer: tracked, ESTABLISHED, for as long as the test runs.
      const started = (p: ResultPromise, what: string) =>
        new Promise<void>((resolve, reject) => {
          held.push(p);
          p.stdout?.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
          p.on('exit', (code) => reject(new Error(`${what} ended (exit ${code})`)));
        });
      const server = `require('net').createServer((s)=>s.on('error',()=>{})).listen(22,()=>console.log('up'))`;
      await started(
        execa('ip', ['netns', 'exec', b.host, process.execPath, '-e', server], { reject: false, buffer: false }),
        'the SSH-port server',
      );
      const hold = `const s=require('net').connect(22,'${b.hostV4}',()=>console.log('up'));s.on('error',(e)=>{console.error(e.message);process.exit(1)});setInterval(()=>{},1e6)`;
      await started(
        execa('ip', ['netns', 'exec', b.peer, process.execPath, '-e', hold], { reject: false, buffer: false }),
        'the held SSH connection',
      );
      // Traffic to the notrack port, both protocols and families, several times over.
      for (let i = 0; i < 3; i++) {
        const v = await b.check(b.peer, [
          { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4 },
          { proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4 },
          { proto: 'tcp', host: b.hostV6, port: PORT, source: b.peerV6 },
          { proto: 'udp', host: b.hostV6, port: PORT, source: b.peerV6 },
        ]);
        expect(v).toEqual(['open', 'open', 'open', 'open']);
      }
      const table = async () => {
        const v4 = await b.exec(b.host, 'conntrack', ['-L', '-f', 'ipv4'], { reject: false });
        const v6 = await b.exec(b.host, 'conntrack', ['-L', '-f', 'ipv6'], { reject: false });
        return `${v4.stdout}\n${v6.stdout}`;
      };
      const entries = await waitFor(
        async () => {
          const t = await table();
          return /dport=22 .*ESTABLISHED|ESTABLISHED.*dport=22 /.test(t) ? t : false;
        },
        { what: 'the SSH connection in the host namespace conntrack table', timeoutMs: 30_000 },
      );
      expect(entries).toMatch(/tcp .*ESTABLISHED .*dport=22 /);
      expect(entries).not.toMatch(new RegExp(`port=${PORT}\\b`));
    });

    it('marks untracked only what the rule names: the raw table holds our chains and jumps', async () => {
      const b = bench();
      for (const family of [4, 6] as const) {
        const dump = await b.iptablesSave(family);
        const raw = dump.split('*raw')[1]?.split('COMMIT')[0] ?? '';
        expect(raw).toContain('-A PREROUTING -j GFW-PREROUTING');
        expect(raw).toContain('-A OUTPUT -j GFW-OUTPUT');
        const src = family === 4 ? '192.0.2.0/28' : '2001:db8::/120';
        expect(raw).toContain(`-A GFW-PREROUTING -s ${src} -p tcp -m tcp --dport ${PORT} -m comment --comment dns -j CT --notrack`);
        expect(raw).toContain(`-A GFW-OUTPUT -d ${src} -p udp -m udp --sport ${PORT} -m comment --comment dns -j CT --notrack`);
        expect(dump).toContain(
          '-A GFW-OUTPUT -m conntrack --ctstate UNTRACKED -m comment --comment "gen-fw: untracked replies" -j GFW-OUTPUT-UNTRACKED',
        );
      }
    });

    it('sends a reply from the notrack port past the output rules, but not past the metadata block: a local user cannot reach it from that port', async () => {
      const b = bench();
      // The metadata address and another link-local one, on the peer's side of the veth (the
      // echo server answers on every non-loopback address), routed there from the host.
      await b.sh(b.peer, `ip addr add ${METADATA}/32 dev gv${b.id}p && ip addr add 169.254.1.1/32 dev gv${b.id}p`);
      await b.sh(b.host, `ip route add 169.254.0.0/16 via ${b.peerV4}`);
      await b.serve(b.peer, ['udp:7000']);
      const from = (host: string) => ({ proto: 'udp' as const, host, port: 7000, sourcePort: LINK_LOCAL_PORT });
      // The untracked way out works for any user (169.254.1.1 is inside the rule's source)...
      expect(await b.check(b.host, [from('169.254.1.1')], NOBODY)).toEqual(['open']);
      // ...and the metadata service stays root's: the metadata block comes first.
      expect(await b.check(b.host, [from(METADATA)], NOBODY)).toEqual(['filtered']);
      expect(await b.check(b.host, [from(METADATA)])).toEqual(['open']);
      // IPv4 has a notrack source that holds the metadata address: the replies' jump stays
      // after the metadata block. IPv6's sources exclude fd00:ec2::254: it comes first there.
      for (const family of [4, 6] as const) {
        const output = (await b.iptablesSave(family)).split('\n').filter((l) => l.startsWith('-A GFW-OUTPUT '));
        const at = (comment: string) => output.findIndex((l) => l.includes(`"gen-fw: ${comment}"`));
        expect(at('metadata for others'), output.join('\n')).toBeGreaterThan(-1);
        if (family === 4) expect(at('untracked replies')).toBeGreaterThan(at('metadata for others'));
        else expect(at('untracked replies')).toBe(at('established') + 1);
      }
    });

    it('re-applies idempotently (iptables-save the same after a second apply), notes nf_conntrack_max and sets the per-namespace timeouts', async () => {
      const b = bench();
      const before = [rulesOf(await b.iptablesSave(4)), rulesOf(await b.iptablesSave(6))];
      const again = await b.exec(b.host, 'sh', [project().init], { reject: false });
      expect(again.exitCode, again.stderr).toBe(0);
      const after = [rulesOf(await b.iptablesSave(4)), rulesOf(await b.iptablesSave(6))];
      expect(after).toEqual(before);
      // The drift check reads the fast path as ours and in sync.
      const check = await driftCheck(b, project());
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/^IPv4: in sync \(\d+ rules\)$/m);
      expect(check.stdout).toMatch(/^IPv6: in sync \(\d+ rules\)$/m);
      // A test namespace is never the initial one: nf_conntrack_max is the host's, said so, not failed.
      expect(again.stderr).toMatch(/note: conntrack_limits: nf_conntrack_max is set only in the initial network namespace/);
      const read = async (name: string) => (await b.exec(b.host, 'cat', [`/proc/sys/net/netfilter/${name}`])).stdout.trim();
      expect(await read('nf_conntrack_tcp_timeout_established')).toBe('300');
      expect(await read('nf_conntrack_udp_timeout')).toBe('25');
      // ...and only in this namespace: a fresh one keeps the kernel's default.
      const fresh = await execa('unshare', [
        '--net',
        'sh',
        '-c',
        'modprobe nf_conntrack 2>/dev/null; cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established',
      ]);
      expect(fresh.stdout.trim()).not.toBe('300');
    });

    it('renders the limits for boot: sysctl.d and modules-load.d', () => {
      const sysctl = readFileSync(join(project().out, 'rootfs/etc/sysctl.d/60-gen-fw.conf'), 'utf8');
      expect(sysctl.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
        'net.netfilter.nf_conntrack_max = 131072',
        'net.netfilter.nf_conntrack_tcp_timeout_established = 300',
        'net.netfilter.nf_conntrack_udp_timeout = 25',
      ]);
      expect(readFileSync(join(project().out, 'rootfs/etc/modules-load.d/gen-fw.conf'), 'utf8')).toMatch(/^nf_conntrack$/m);
    });

    it('takes its raw-table chains and jumps away when the last notrack rule goes', async () => {
      const b = bench();
      const tracked = makeProject({ services: { 'dns.yaml': `rules:\n  - { direction: in, proto: udp, dport: ${PORT} }\n` } });
      try {
        await render(tracked);
        await b.exec(b.host, 'sh', [tracked.init]);
        for (const family of [4, 6] as const) {
          const dump = await b.iptablesSave(family);
          expect(dump).not.toMatch(/GFW-PREROUTING|GFW-OUTPUT-UNTRACKED|GFW-INPUT-UNTRACKED|CT --notrack/);
          const raw = dump.split('*raw')[1]?.split('COMMIT')[0] ?? '';
          expect(raw).not.toContain('GFW-');
        }
        const v = await b.check(b.peer, [{ proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4b }]);
        expect(v).toEqual(['open']);
      } finally {
        tracked.cleanup();
      }
    });
  },
);

/**
 * No fast path where it would change a verdict: a service before dns (aaa, in name order)
 * drops tcp 5300 from one peer address. dns's tcp notrack accept stays in its chain, after
 * aaa's drop; its udp one (no drop on udp) is hoisted.
 */
describeFirewall(
  'a notrack port that an earlier service drops for one source: the drop still wins',
  {
    services: () => ({
      'aaa.yaml': `rules:\n  - { direction: in, proto: tcp, dport: ${PORT}, source: 192.0.2.2, action: drop }\n`,
      'dns.yaml': `rules:
  - { direction: in, proto: udp, dport: ${PORT}, source: [192.0.2.0/28, "2001:db8::/120"], notrack: true }
  - { direction: in, proto: tcp, dport: ${PORT}, source: [192.0.2.0/28, "2001:db8::/120"], notrack: true }
`,
    }),
  },
  ({ bench, project }) => {
    it('drops tcp from the dropped source, accepts the rest untracked, and hoists only udp', async () => {
      const b = bench();
      await b.sh(b.peer, `ip addr add 192.0.2.4/24 dev gv${b.id}p`);
      await b.serve(b.host, [`tcp:${PORT}`, `udp:${PORT}`]);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'udp', host: b.hostV4, port: PORT, source: b.peerV4 },
        { proto: 'tcp', host: b.hostV4, port: PORT, source: '192.0.2.4' },
        { proto: 'tcp', host: b.hostV6, port: PORT, source: b.peerV6 },
        { proto: 'udp', host: b.hostV6, port: PORT, source: b.peerV6 },
      ]);
      expect(v).toEqual(['filtered', 'open', 'open', 'open', 'open']);
      for (const family of [4, 6] as const) {
        expect(await counters(b, family, 'GFW-INPUT-UNTRACKED', `-p tcp `)).toEqual([]);
        expect((await counters(b, family, 'GFW-INPUT-UNTRACKED', `-p udp -m udp --dport ${PORT} `))[0]).toBeGreaterThan(0);
        // tcp is accepted in dns's own chain, after aaa's drop.
        expect((await counters(b, family, 'GFW-I-dns', `-p tcp -m tcp --dport ${PORT} `))[0]).toBeGreaterThan(0);
      }
      expect((await counters(b, 4, 'GFW-I-aaa', '-j DROP'))[0]).toBeGreaterThan(0);
      // Still untracked: nothing in the conntrack table for the port.
      const t = await b.exec(b.host, 'sh', ['-c', 'conntrack -L -f ipv4 2>/dev/null; conntrack -L -f ipv6 2>/dev/null'], { reject: false });
      expect(t.stdout).not.toMatch(new RegExp(`port=${PORT}\\b`));
      // The rendered fragment says why tcp has no fast path.
      const fragment = readFileSync(join(project().sbin, 'iptables_conf.d/iptables_dns.sh'), 'utf8');
      expect(fragment).toMatch(/# rules\[1\]: .*no fast path .*aaa's rules\[0\] \(drop\) may meet its packets first/);
    });

    it('re-applies idempotently, and the drift check is in sync', async () => {
      const b = bench();
      const before = [rulesOf(await b.iptablesSave(4)), rulesOf(await b.iptablesSave(6))];
      const again = await b.exec(b.host, 'sh', [project().init], { reject: false });
      expect(again.exitCode, again.stderr).toBe(0);
      expect([rulesOf(await b.iptablesSave(4)), rulesOf(await b.iptablesSave(6))]).toEqual(before);
      const check = await driftCheck(b, project());
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    });
  },
);
