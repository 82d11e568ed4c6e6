import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { mountedDebianRoot, mountsUnder, type DebianRoot } from './debian-root.js';

// The baked image booted by real systemd, several times in a row: systemd-nspawn -b on a
// debootstrapped bookworm root (with systemd, ifupdown and cron; see debian-root.ts) into
// which install.sh --root baked the bundle. Each boot gets a fresh pair of test namespaces
// (bench.host is the container's network namespace, bench.peer the world), so each boot
// starts from an empty firewall, as a machine does. How nspawn runs here (no systemd on
// this machine, so --register=no and nsenter instead of machinectl) is in
// docs/baking.md, Tests.
//
// Cost: cold, the cached root is one debootstrap (about 45 s and a 250 MB tarball in
// /var/cache/gen-fw-test on a fast mirror, a few minutes on a slow one); baking needs the
// mirror for iptables-persistent (a few seconds). Warm, a boot with its checks takes a few
// seconds here; the whole file (eight boots) about a minute. Nothing is waited for by time: every wait
// polls for the state itself, with deadlines far beyond it.

const minutes = (n: number) => n * 60_000;
const bootDeadline = minutes(3);

/** The root namespace's firewall, read only: it must be the same at the end. */
async function rootFirewall(): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save']) out.push(...rulesOf((await execa(cmd, [], { reject: false })).stdout));
  out.push(`ipsets: ${(await execa('ipset', ['list', '-n'], { reject: false })).stdout}`);
  return out;
}

/** Poll fn until it returns a value (not undefined), or throw what `what` says after ms. */
async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A booted container: its systemd (the leader) and the way in. */
interface Container {
  leader: number;
  /** Run a command inside the container (all its namespaces), never rejecting. */
  run(cmd: string, ...args: string[]): ReturnType<typeof execa>;
  /** What nspawn and the console printed so far (for failure messages). */
  console(): string;
  /** systemctl poweroff, then wait for nspawn to end; kills it if it does not. */
  poweroff(): Promise<void>;
}

/**
 * Boot root with systemd-nspawn in the network namespace ns (as docs/baking.md, Tests,
 * describes), and wait until its systemd answers. The masks: no D-Bus in this sandbox.
 */
async function bootContainer(root: string, ns: string): Promise<Container> {
  const name = `gfwt-${randomBytes(4).toString('hex')}`;
  const nspawn: ResultPromise = execa(
    'systemd-nspawn',
    [
      '-D',
      root,
      '-b',
      '-M',
      name,
      '--register=no',
      '--keep-unit',
      `--network-namespace-path=/run/netns/${ns}`,
      '--capability=CAP_NET_ADMIN',
      '--console=read-only',
      'systemd.mask=dbus.service',
      'systemd.mask=dbus.socket',
      'systemd.mask=systemd-logind.service',
    ],
    { reject: false, buffer: false, stdin: 'ignore' },
  );
  let out = '';
  nspawn.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  nspawn.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  void nspawn.then(() => (exited = true));
  const kill = async () => {
    if (!exited) nspawn.kill('SIGKILL');
    await nspawn;
  };
  try {
    const leader = await until("the container's systemd", bootDeadline, async () => {
      if (exited) throw new Error(`systemd-nspawn ended before its systemd started:\n${out}`);
      const r = await execa('pgrep', ['-P', String(nspawn.pid), '-x', 'systemd'], { reject: false });
      return r.exitCode === 0 ? Number(r.stdout.split('\n')[0]) : undefined;
    });
    const run = (cmd: string, ...args: string[]) =>
      execa('nsenter', ['-t', String(leader), '-a', '--', cmd, ...args], { reject: false, all: true, timeout: bootDeadline });
    const poweroff = async () => {
      if (exited) return;
      await run('systemctl', 'poweroff');
      try {
        await until('systemd-nspawn to end after poweroff', minutes(2), async () => (exited ? true : undefined));
      } finally {
        await kill();
      }
    };
    return { leader, run, console: () => out, poweroff };
  } catch (e) {
    await kill();
    throw e;
  }
}

describe('the baked image booted by real systemd (systemd-nspawn -b), eight times in a row', () => {
  let rootBefore: string[];
  let image: DebianRoot | undefined;
  let project: Project;
  const root = () => image!.dir;

  beforeAll(async () => {
    rootBefore = await rootFirewall();
    // As boot.test.ts: SSH without its rate limit, a blocklist set (ipset-persistent and
    // /etc/iptables/ipsets) that holds the peer's second address, one web service.
    project = makeProject({
      host: 'ssh: { rate_limit: false }\ndeny: { source: ["@blocklist"] }\nsets: { blocklist: { file: lists/blocklist.txt } }\n',
      services: { 'web.yaml': 'description: the web service\nrules:\n  - { direction: in, proto: tcp, dport: 8080 }\n' },
      files: { 'lists/blocklist.txt': '203.0.113.7\n198.51.100.0/25\n2001:db8:bad::/48\n' },
    });
    await render(project);
    image = await mountedDebianRoot((s) => console.log(s));
    const r = await execa('sh', [join(project.out, 'install.sh'), '--root', root()], { reject: false, all: true, input: '' });
    if (r.exitCode !== 0) throw new Error(`install.sh --root failed (${r.exitCode}):\n${r.all}`);
    // A server image brings up its interfaces with ifupdown: lo here, so that networking
    // runs the image's pre-up hook at every boot, after netfilter-persistent.
    writeFileSync(join(root(), 'etc/network/interfaces.d/lo'), 'auto lo\niface lo inet loopback\n');
    // nspawn mounts the container's own proc, sys and dev: not Packer's binds.
    for (const m of ['dev', 'sys', 'proc']) if (mountsUnder(join(root(), m)).length > 0) await execa('umount', [join(root(), m)]);
  }, minutes(10));

  afterAll(async () => {
    await image?.cleanup();
    project?.cleanup();
    // Nothing of the boots reached the builder's own firewall.
    expect(await rootFirewall()).toEqual(rootBefore);
  }, minutes(2));

  /** Boot once in fresh namespaces, run body, power off and delete the namespaces whatever happens. */
  const withBoot = async (body: (c: Container, b: Bench) => Promise<void>) => {
    const bench = await Bench.create();
    let c: Container | undefined;
    try {
      c = await bootContainer(root(), bench.host);
      await body(c, bench);
    } finally {
      await c?.poweroff();
      await bench.cleanup();
    }
  };

  /** Both families' rules (counters zeroed) and gen-fw's sets with their members, as the container's namespace has them. */
  const firewallOf = async (c: Container) => {
    const out: string[] = [];
    for (const cmd of ['iptables-save', 'ip6tables-save']) out.push(...rulesOf((await c.run(cmd)).stdout as string));
    const sets = (await c.run('ipset', 'save')).stdout as string;
    out.push(
      ...sets
        .split('\n')
        .filter((l) => / gfw-/.test(l))
        .map((l) => l.replace(/ initval 0x[0-9a-f]+/, ''))
        .sort(),
    );
    return out;
  };

  /** What every boot must show. */
  const bootIsGood = async (c: Container, b: Bench) => {
    // The verdict of the boot. --wait may answer before systemd's socket is up; then ask again.
    const state = await until('is-system-running to give a verdict', bootDeadline, async () => {
      const s = ((await c.run('systemctl', 'is-system-running', '--wait')).stdout as string).trim();
      return ['running', 'degraded', 'maintenance', 'stopping'].includes(s) ? s : undefined;
    });
    const failed = async () =>
      `${(await c.run('systemctl', '--failed', '--no-pager')).all}\n${(await c.run('journalctl', '-b', '--no-pager', '-n', '80')).all}`;
    expect(state, state === 'running' ? '' : await failed()).toBe('running');

    // Loaded before the network: ordered so by the units (every boot, not by luck), and so it went.
    const show = async (unit: string, ...props: string[]) => {
      const text = (await c.run('systemctl', 'show', unit, ...props.map((p) => `-p${p}`))).stdout as string;
      return Object.fromEntries(text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const nfp = await show('netfilter-persistent.service', 'ActiveState', 'Result', 'Before', 'ActiveEnterTimestampMonotonic');
    const net = await show('networking.service', 'ActiveState', 'After', 'InactiveExitTimestampMonotonic');
    expect(nfp.ActiveState).toBe('active');
    expect(nfp.Result).toBe('success');
    expect(nfp.Before!.split(' ')).toContain('network-pre.target');
    expect(net.ActiveState).toBe('active');
    expect(net.After!.split(' ')).toContain('network-pre.target');
    expect(Number(nfp.ActiveEnterTimestampMonotonic)).toBeGreaterThan(0);
    expect(Number(nfp.ActiveEnterTimestampMonotonic)).toBeLessThanOrEqual(Number(net.InactiveExitTimestampMonotonic));
    // The unit that empties /tmp ran in this boot too; iptables-init's work files are not there.
    expect((await show('systemd-tmpfiles-setup.service', 'ActiveState')).ActiveState).toBe('active');
    const run = await c.run('stat', '-c', '%F %u %a', '/run/gen-fw');
    expect(run.stdout, run.all as string).toBe('directory 0 700');
    expect(((await c.run('ls', '-A', '/run/gen-fw')).stdout as string).trim(), 'no work directory left behind').toBe('');

    // The ruleset is loaded in both families (seen from outside too) and the drift check agrees.
    const fw = await firewallOf(c);
    expect(fw.filter((l) => l === '-A INPUT -j GFW-INPUT')).toHaveLength(2);
    expect(fw.filter((l) => l.startsWith(':GFW-INPUT '))).toHaveLength(2);
    expect(fw).toContain('add gfw-blocklist-v4 198.51.100.0/25');
    const outside = [
      ...rulesOf((await b.exec(b.host, 'iptables-save')).stdout),
      ...rulesOf((await b.exec(b.host, 'ip6tables-save')).stdout),
    ];
    expect(outside).toEqual(fw.filter((l) => !l.startsWith('add ') && !l.startsWith('create ')));
    const check = await c.run('/opt/sbin/iptables-check');
    expect(check.exitCode, check.all as string).toBe(0);
    expect(check.stdout).toMatch(/IPv4: in sync/);
    expect(check.stdout).toMatch(/IPv6: in sync/);

    // Real connections from the peer: SSH and the web service open, another port filtered,
    // a blocklisted source filtered even on SSH.
    await b.serve(b.host, ['tcp:22', 'tcp:8080', 'tcp:8081']);
    const v = await b.check(b.peer, [
      { proto: 'tcp', host: b.hostV4, port: 22 },
      { proto: 'tcp', host: b.hostV4, port: 8080 },
      { proto: 'tcp', host: b.hostV4, port: 8081 },
      { proto: 'tcp', host: b.hostV6, port: 22 },
      { proto: 'tcp', host: b.hostV6, port: 8080 },
      { proto: 'tcp', host: b.hostV6, port: 8081 },
      { proto: 'tcp', host: b.hostV4, port: 22, source: '198.51.100.2' },
    ]);
    expect(v).toEqual(['open', 'open', 'filtered', 'open', 'open', 'filtered', 'filtered']);

    // The unit's journal: iptables-init applied, and nothing failed or fell back.
    const journal = (await c.run('journalctl', '-b', '-u', 'netfilter-persistent.service', '--no-pager', '-o', 'cat')).stdout as string;
    expect(journal).toMatch(/iptables-init: applied \d+ rules/);
    expect(journal).not.toMatch(
      /iptables-init failed|falling back|system failure|failed unexpectedly|ended the capture early|No such file|Directory nonexistent/,
    );
    return fw;
  };

  // Before /run/gen-fw, 2 boots in 10 here went degraded (the race with /tmp's cleaning):
  // eight boots in all catch that with a probability of 1 - 0.8^8 = 83%, for about 30 s.
  const plainBoots = 6;
  it(
    `boots 1 to ${plainBoots}: running, the firewall loaded before networking and in sync, ports as configured`,
    async () => {
      for (let i = 1; i <= plainBoots; i++) {
        await withBoot(async (c, b) => {
          try {
            await bootIsGood(c, b);
          } catch (e) {
            throw new Error(`boot ${i} of ${plainBoots}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
          }
        });
      }
    },
    minutes(10),
  );

  it(
    `boot ${plainBoots + 1}: netfilter-persistent reload, systemctl restart and a reinstall of the packages change nothing`,
    async () => {
      await withBoot(async (c, b) => {
        const booted = await bootIsGood(c, b);
        const same = async (what: string) => expect(await firewallOf(c), what).toEqual(booted);

        const reload = await c.run('netfilter-persistent', 'reload');
        expect(reload.exitCode, reload.all as string).toBe(0);
        await same('after netfilter-persistent reload');
        // Debian's unit has no ExecReload: the documentation must not send anyone there.
        const sysReload = await c.run('systemctl', 'reload', 'netfilter-persistent');
        expect(sysReload.exitCode).not.toBe(0);
        expect(sysReload.all).toMatch(/not applicable/);

        const restart = await c.run('systemctl', 'restart', 'netfilter-persistent');
        expect(restart.exitCode, restart.all as string).toBe(0);
        await same('after systemctl restart');

        // Offline (the container's namespace has no way out): from the .debs apt kept when
        // install.sh installed them, which a debootstrapped root keeps in its archive cache.
        const archives = readdirSync(join(root(), 'var/cache/apt/archives'));
        for (const p of ['iptables-persistent', 'netfilter-persistent', 'ipset-persistent']) {
          expect(
            archives.some((f) => f.startsWith(`${p}_`)),
            `${p}'s .deb in the image's apt cache`,
          ).toBe(true);
        }
        const reinstall = await c.run(
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          'install',
          '--reinstall',
          '--no-download',
          '-y',
          '-q',
          'iptables-persistent',
          'netfilter-persistent',
          'ipset-persistent',
        );
        expect(reinstall.exitCode, reinstall.all as string).toBe(0);
        expect(reinstall.stdout).toMatch(/3 reinstalled/);
        await same('after the reinstall');
        // The stock plugins stay diverted; a start after the reinstall still runs ours.
        const diversions = (await c.run('dpkg-divert', '--list')).stdout as string;
        expect(diversions).toMatch(/15-ip4tables to .*disabled-by-gen-fw by gen-fw/);
        expect(diversions).toMatch(/25-ip6tables to .*disabled-by-gen-fw by gen-fw/);
        const again = await c.run('systemctl', 'restart', 'netfilter-persistent');
        expect(again.exitCode, again.all as string).toBe(0);
        await same('after a restart following the reinstall');

        expect(((await c.run('systemctl', 'is-system-running')).stdout as string).trim()).toBe('running');
        expect((await c.run('/opt/sbin/iptables-check')).exitCode).toBe(0);
        const journal = (await c.run('journalctl', '-b', '-u', 'netfilter-persistent.service', '--no-pager', '-o', 'cat')).stdout as string;
        expect(journal.match(/iptables-init: applied \d+ rules/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
        expect(journal).not.toMatch(/iptables-init failed|falling back|system failure|failed unexpectedly/);
      });
    },
    minutes(6),
  );

  it(
    `boot ${plainBoots + 2}: after the reinstall, as good as the first`,
    async () => {
      await withBoot(async (c, b) => {
        await bootIsGood(c, b);
      });
    },
    minutes(6),
  );

  it('leaves no container state on this machine', () => {
    // nspawn keeps a per-machine directory while a container runs.
    const propagate = '/run/systemd/nspawn/propagate';
    const left = existsSync(propagate) ? readdirSync(propagate).filter((n) => n.startsWith('gfwt-')) : [];
    expect(left).toEqual([]);
  });
});
