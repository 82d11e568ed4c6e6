import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { mountedDebianRoot, type DebianRoot } from './debian-root.js';

// Bakes a rendered bundle into a debootstrapped Debian root with install.sh --root (as a
// Packer chroot build would), then "boots" it in a test namespace with the image's own
// netfilter-persistent. Every rule goes into namespaces this file creates.

const minutes = (n: number) => n * 60_000;

/** The root namespace's firewall, read only: it must be the same at the end. */
async function rootFirewall(): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save']) out.push(...rulesOf((await execa(cmd, [], { reject: false })).stdout));
  const sets = await execa('ipset', ['list', '-n'], { reject: false });
  out.push(`ipsets: ${sets.stdout}`);
  return out;
}

let rootBefore: string[];
beforeAll(async () => {
  rootBefore = await rootFirewall();
});

describe('the bundle baked into a Debian image', () => {
  let image: DebianRoot | undefined;
  let project: Project;
  let bench: Bench | undefined;
  const extraNs: string[] = [];
  const root = () => image!.dir;
  const install = (args: string[] = []) =>
    execa('sh', [join(project.out, 'install.sh'), '--root', root(), ...args], { reject: false, all: true, input: '' });
  const inImage = (ns: string, cmd: string, args: string[] = [], env: string[] = []) =>
    execa('ip', ['netns', 'exec', ns, 'chroot', root(), ...(env.length ? ['env', ...env] : []), cmd, ...args], {
      reject: false,
      all: true,
    });
  const boot = (ns: string, action = 'start') => inImage(ns, '/usr/sbin/netfilter-persistent', [action]);
  const preUp = (ns: string, iface: string) => inImage(ns, '/etc/network/if-pre-up.d/iptables-pre-up', [], [`IFACE=${iface}`]);
  const dumps = async (ns: string) => {
    const out: string[] = [];
    for (const cmd of ['iptables-save', 'ip6tables-save']) out.push(...rulesOf((await execa('ip', ['netns', 'exec', ns, cmd])).stdout));
    return out;
  };
  /** The image's saved state, as dumps() shows a loaded ruleset. */
  const savedRules = () => ['rules.v4', 'rules.v6'].flatMap((f) => rulesOf(readFileSync(join(root(), 'etc/iptables', f), 'utf8')));
  const newNamespace = async (suffix: string) => {
    const ns = `${bench!.host.slice(0, -2)}-${suffix}`;
    await execa('ip', ['netns', 'add', ns]);
    extraNs.push(ns);
    return ns;
  };
  /** Files install.sh writes, hashed. */
  const installedState = () => {
    const h: Record<string, string> = {};
    const walk = (rel: string) => {
      const p = join(root(), rel);
      if (!existsSync(p)) return;
      if (statSync(p).isDirectory())
        return readdirSync(p)
          .sort()
          .forEach((n) => walk(join(rel, n)));
      let text = readFileSync(p, 'utf8');
      // ipset save: the kernel picks initval anew, and members come in hash order.
      if (rel.endsWith('ipsets'))
        text = text
          .replace(/ initval 0x[0-9a-f]+/g, '')
          .split('\n')
          .sort()
          .join('\n');
      h[rel] = `${(statSync(p).mode & 0o7777).toString(8)} ${createHash('sha256').update(text).digest('hex')}`;
    };
    [
      'etc/iptables',
      'opt/sbin',
      'usr/share/netfilter-persistent/plugins.d',
      'etc/default/netfilter-persistent',
      'etc/network/if-pre-up.d',
    ].forEach(walk);
    return h;
  };

  beforeAll(async () => {
    // SSH without its rate limit (this file connects often); a blocklist set, so that
    // ipset-persistent is installed and /etc/iptables/ipsets saved; one web service.
    project = makeProject({
      host: 'ssh: { rate_limit: false }\ndeny: { source: ["@blocklist"] }\nsets: { blocklist: { file: lists/blocklist.txt } }\n',
      services: { 'web.yaml': 'description: the web service\nrules:\n  - { direction: in, proto: tcp, dport: 8080 }\n' },
      files: { 'lists/blocklist.txt': '203.0.113.7\n198.51.100.128/25\n2001:db8:bad::/48\n' },
    });
    await render(project);
    image = await mountedDebianRoot((s) => console.log(s));
    bench = await Bench.create();
  }, minutes(10));

  afterAll(async () => {
    await bench?.cleanup();
    for (const ns of extraNs) await execa('ip', ['netns', 'del', ns], { reject: false });
    await image?.cleanup();
    project?.cleanup();
  }, minutes(2));

  it(
    'install.sh stops with exit 3 and says so when apt-get fails',
    async () => {
      const lists = join(root(), 'etc/apt/sources.list');
      const saved = readFileSync(lists, 'utf8');
      writeFileSync(lists, 'deb http://127.0.0.1:9/debian bookworm main\n');
      try {
        const r = await install();
        expect(r.exitCode, r.all).toBe(3);
        expect(r.stderr).toMatch(/install\.sh: apt-get (update|install.*) failed in /);
        expect(existsSync(join(root(), 'usr/sbin/policy-rc.d')), 'the temporary policy-rc.d is removed').toBe(false);
      } finally {
        writeFileSync(lists, saved);
      }
    },
    minutes(3),
  );

  it(
    'installs iptables-persistent with the debconf answers, no prompt, and writes rules.v4 and rules.v6',
    async () => {
      const r = await install();
      expect(r.exitCode, r.all).toBe(0);
      const installed = await execa('chroot', [
        root(),
        'dpkg-query',
        '-W',
        '-f=${Package} ${Status}\n',
        'iptables-persistent',
        'ipset-persistent',
      ]);
      expect(installed.stdout.split('\n').sort()).toEqual([
        'ipset-persistent install ok installed',
        'iptables-persistent install ok installed',
      ]);
      const answers = (await execa('chroot', [root(), 'debconf-show', 'iptables-persistent'])).stdout;
      expect(answers).toMatch(/autosave_v4: false/);
      expect(answers).toMatch(/autosave_v6: false/);
      expect(answers).toMatch(/autosave_done: true/);
      // No service started in the chroot (it shares this machine's network namespace).
      expect(r.all).toMatch(/policy-rc\.d denied execution of start/);
      expect(existsSync(join(root(), 'usr/sbin/policy-rc.d'))).toBe(false);
      // Enabled for boot (an absolute link, valid inside the image).
      const enabled = join(root(), 'etc/systemd/system/multi-user.target.wants/netfilter-persistent.service');
      expect(readlinkSync(enabled)).toBe('/lib/systemd/system/netfilter-persistent.service');

      const v4 = readFileSync(join(root(), 'etc/iptables/rules.v4'), 'utf8');
      const v6 = readFileSync(join(root(), 'etc/iptables/rules.v6'), 'utf8');
      expect(v4).toContain(':INPUT DROP [0:0]');
      expect(v4).toContain('-A INPUT -j GFW-INPUT');
      expect(v4).toContain('--dport 8080');
      expect(v6).toContain(':INPUT DROP [0:0]');
      expect(readFileSync(join(root(), 'etc/iptables/ipsets'), 'utf8')).toContain('add gfw-blocklist-v4 203.0.113.7');
    },
    minutes(4),
  );

  it('puts its netfilter-persistent plugin in place of the stock IPv4 and IPv6 ones', async () => {
    const diversions = (await execa('chroot', [root(), 'dpkg-divert', '--list'])).stdout;
    expect(diversions).toMatch(/plugins\.d\/15-ip4tables to .*15-ip4tables\.disabled-by-gen-fw by gen-fw/);
    expect(diversions).toMatch(/plugins\.d\/25-ip6tables to .*25-ip6tables\.disabled-by-gen-fw by gen-fw/);
    const plugins = join(root(), 'usr/share/netfilter-persistent/plugins.d');
    const runs = (await execa('run-parts', ['--test', '-a', 'start', plugins])).stdout.split('\n').map((p) => p.slice(plugins.length + 1));
    expect(runs).toEqual(['10-ipset', '15-gen-fw', '40-ipset']);
    expect(readFileSync(join(root(), 'etc/default/netfilter-persistent'), 'utf8')).toMatch(/^IPSET_SKIP_SAVE=yes$/m);
  });

  it(
    'changes nothing when install.sh runs again',
    async () => {
      const before = installedState();
      const r = await install();
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stderr).not.toMatch(/installing/);
      expect(installedState()).toEqual(before);
    },
    minutes(2),
  );

  it(
    'boots: SSH and the web service are reachable, another port is filtered',
    async () => {
      const b = bench!;
      const r = await boot(b.host);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).toMatch(/executing .*\/15-gen-fw start/);
      await b.serve(b.host, ['tcp:22', 'tcp:8080', 'tcp:8081']);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: 22 },
        { proto: 'tcp', host: b.hostV4, port: 8080 },
        { proto: 'tcp', host: b.hostV4, port: 8081 },
        { proto: 'tcp', host: b.hostV6, port: 22 },
        { proto: 'tcp', host: b.hostV6, port: 8081 },
      ]);
      expect(v).toEqual(['open', 'open', 'filtered', 'open', 'filtered']);
    },
    minutes(1),
  );

  it('iptables-check inside the image reports in sync after boot', async () => {
    const r = await inImage(bench!.host, '/opt/sbin/iptables-check');
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/IPv4: in sync/);
    expect(r.stdout).toMatch(/IPv6: in sync/);
  });

  it('netfilter-persistent reload and restart keep Docker- and Kubernetes-like chains and duplicate nothing', async () => {
    const b = bench!;
    const dockerLike = [
      'iptables -N DOCKER',
      'iptables -N DOCKER-USER',
      'iptables -A DOCKER-USER -j RETURN',
      'iptables -A FORWARD -j DOCKER-USER',
      'iptables -A FORWARD -o docker0 -j DOCKER',
      'iptables -t nat -N DOCKER',
      'iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      'iptables -N KUBE-FIREWALL',
      'iptables -I INPUT -j KUBE-FIREWALL',
      'ip6tables -N DOCKER',
      'ip6tables -A FORWARD -o docker0 -j DOCKER',
    ];
    await b.sh(b.host, dockerLike.join(' && '));
    const before = await dumps(b.host);
    expect(before).toContain('-A FORWARD -j DOCKER-USER');
    for (const action of ['reload', 'restart', 'start']) {
      const r = await boot(b.host, action);
      expect(r.exitCode, `${action}: ${r.all}`).toBe(0);
      expect(await dumps(b.host), action).toEqual(before);
    }
    // One jump per family: IPv4 and IPv6.
    expect(before.filter((l) => l === '-A INPUT -j GFW-INPUT')).toHaveLength(2);
    expect((await inImage(b.host, '/opt/sbin/iptables-check')).exitCode).toBe(0);
  });

  it('refuses netfilter-persistent save and flush, which would lose or wipe other chains', async () => {
    const b = bench!;
    const before = await dumps(b.host);
    const saved = readFileSync(join(root(), 'etc/iptables/rules.v4'), 'utf8');
    for (const action of ['save', 'flush']) {
      const r = await boot(b.host, action);
      expect(r.exitCode, r.all).not.toBe(0);
      expect(r.all).toMatch(new RegExp(`gen-fw: not ${action === 'save' ? 'saving' : 'flushing'}`));
    }
    expect(await dumps(b.host)).toEqual(before);
    expect(readFileSync(join(root(), 'etc/iptables/rules.v4'), 'utf8')).toBe(saved);
  });

  it('the pre-up hook for a second interface changes nothing, ipsets included', async () => {
    const b = bench!;
    await b.exec(b.host, 'ipset', ['del', 'gfw-blocklist-v4', '203.0.113.7']);
    const before = await dumps(b.host);
    const sets = (await b.exec(b.host, 'ipset', ['list', 'gfw-blocklist-v4'])).stdout;
    const r = await preUp(b.host, 'eth1');
    expect(r.exitCode, r.all).toBe(0);
    expect(await dumps(b.host)).toEqual(before);
    expect((await b.exec(b.host, 'ipset', ['list', 'gfw-blocklist-v4'])).stdout).toBe(sets);
    await b.exec(b.host, 'ipset', ['add', 'gfw-blocklist-v4', '203.0.113.7']);
  });

  it('the pre-up hook restores the saved state at boot, and netfilter-persistent after it duplicates nothing', async () => {
    const ns = await newNamespace('u');
    const r = await preUp(ns, 'eth0');
    expect(r.exitCode, r.all).toBe(0);
    const restored = await dumps(ns);
    expect(restored).toEqual(savedRules());
    expect((await boot(ns)).exitCode).toBe(0);
    expect(await dumps(ns)).toEqual(restored);
    expect((await preUp(ns, 'eth1')).exitCode).toBe(0);
    expect(await dumps(ns)).toEqual(restored);
  });

  it('falls back to the saved state when iptables-init fails at boot, and says so', async () => {
    const ns = await newNamespace('f');
    const broken = join(root(), 'opt/sbin/iptables_conf.d/iptables_zz-broken.sh');
    writeFileSync(broken, 'iptables -A INPUT -j NO-SUCH-CHAIN\n');
    try {
      const r = await boot(ns);
      expect(r.exitCode, r.all).not.toBe(0);
      expect(r.all).toMatch(/iptables-init failed \(exit 2\); falling back to the saved state/);
    } finally {
      rmSync(broken);
    }
    expect(await dumps(ns)).toEqual(savedRules());
  });
});

describe('install.sh without --root, as a chroot build runs it (chroot ROOT sh install.sh)', () => {
  let image: DebianRoot | undefined;
  let project: Project;
  const root = () => image!.dir;
  const policy = () => join(root(), 'usr/sbin/policy-rc.d');
  const permissive = "#!/bin/sh\n# the image maker's own: allows everything\nexit 0\n";

  beforeAll(async () => {
    project = makeProject({}); // the defaults: no sets, so no ipset-persistent
    await render(project);
    image = await mountedDebianRoot();
    await execa('cp', ['-rL', project.out, join(root(), 'tmp/bundle')]);
    writeFileSync(policy(), permissive, { mode: 0o755 });
  }, minutes(10));
  afterAll(async () => {
    await image?.cleanup();
    project?.cleanup();
  }, minutes(2));

  it(
    'installs into / of the chroot, with no service started, and puts back its own policy-rc.d',
    async () => {
      const r = await execa('chroot', [root(), 'sh', '/tmp/bundle/install.sh'], { reject: false, all: true, input: '' });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).toMatch(/policy-rc\.d denied execution of start/);
      expect(r.stderr).toMatch(/install\.sh: installed into \/ \(this machine\); saved in \/etc\/iptables: rules\.v4 rules\.v6$/m);
      expect(readFileSync(policy(), 'utf8')).toBe(permissive);
      expect(existsSync(`${policy()}.gen-fw-saved`)).toBe(false);
      const pkgs = await execa(
        'chroot',
        [root(), 'dpkg-query', '-W', '-f=${Package} ${Status}\n', 'iptables-persistent', 'ipset-persistent'],
        { reject: false },
      );
      expect(pkgs.stdout).toMatch(/^iptables-persistent install ok installed$/m);
      expect(pkgs.stdout).not.toMatch(/^ipset-persistent install ok installed$/m);
    },
    minutes(4),
  );

  it('boots in a fresh network namespace', async () => {
    const ns = `gfwt-${process.pid}-chroot`;
    await execa('ip', ['netns', 'add', ns]);
    try {
      const r = await execa('ip', ['netns', 'exec', ns, 'chroot', root(), '/usr/sbin/netfilter-persistent', 'start'], {
        reject: false,
        all: true,
      });
      expect(r.exitCode, r.all).toBe(0);
      const v4 = rulesOf((await execa('ip', ['netns', 'exec', ns, 'iptables-save'])).stdout);
      expect(v4).toEqual(rulesOf(readFileSync(join(root(), 'etc/iptables/rules.v4'), 'utf8')));
    } finally {
      await execa('ip', ['netns', 'del', ns], { reject: false });
    }
  });
});

describe("the builder's own firewall", () => {
  it('is unchanged: the root network namespace has the same iptables, ip6tables and ipsets', async () => {
    expect(await rootFirewall()).toEqual(rootBefore);
  });
});
