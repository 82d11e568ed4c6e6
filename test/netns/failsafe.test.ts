import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

// When neither the ruleset nor the saved state loads at boot, the host comes up closed:
// the built-in failsafe (DROP policies; SSH on the configured port in; DHCP and DNS out).
// The plugin and the hook run as they would at boot, in the host namespace (with its own
// /etc/iptables), inside a private mount namespace where the project's install
// directory is bind-mounted over /usr/local/sbin (the install_dir it was rendered for).
describe('the boot failsafe', () => {
  let bench: Bench;
  let project: Project;
  const etc = () => `/etc/netns/${bench.host}/iptables`;
  const plugin = () => join(project.out, 'rootfs/usr/share/netfilter-persistent/plugins.d/15-gen-fw');
  const hook = () => join(project.out, 'rootfs/etc/network/if-pre-up.d/iptables-pre-up');
  const bad = () => join(project.out, 'rootfs/usr/local/sbin/iptables_conf.d/iptables_zz-broken.sh');
  const atBoot = (script: string) =>
    bench.exec(
      bench.host,
      'unshare',
      ['-m', 'sh', '-c', `mount --bind ${join(project.out, 'rootfs/usr/local/sbin')} /usr/local/sbin && ${script}`],
      { reject: false },
    );
  const reset = () =>
    bench.sh(
      bench.host,
      'for t in iptables ip6tables; do $t -P INPUT ACCEPT; $t -P OUTPUT ACCEPT; $t -P FORWARD ACCEPT; $t -F; $t -X; done; ipset destroy 2>/dev/null; true',
    );
  const probe = () =>
    bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 2222 },
      { proto: 'tcp', host: bench.hostV6, port: 2222 },
      { proto: 'tcp', host: bench.hostV4, port: 80 },
      { proto: 'tcp', host: bench.hostV6, port: 80 },
      { proto: 'tcp', host: bench.hostV4, port: 22 },
    ]);

  beforeAll(async () => {
    bench = await Bench.create();
    project = makeProject({
      host: 'install_dir: /usr/local/sbin\nssh: { port: 2222, rate_limit: false }\n',
      services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' },
    });
    await render(project);
    await bench.serve(bench.host, ['tcp:22', 'tcp:2222', 'tcp:80']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  /** A saved state that cannot load: rules that name a set that does not exist (as a tmp-1 set collision left it). */
  function unloadableSavedState(): void {
    for (const [fam, file] of [
      ['v4', 'rules.v4'],
      ['v6', 'rules.v6'],
    ] as const) {
      writeFileSync(
        join(etc(), file),
        `*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n:GFW-INPUT - [0:0]\n-A INPUT -j GFW-INPUT\n` +
          `-A GFW-INPUT -m set --match-set gfw-tmp-1-${fam} src -j DROP\n-A GFW-INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n`,
      );
    }
  }

  it('the plugin: iptables-init broken and the saved state unloadable leave the failsafe in both families, SSH in, the unit failed', async () => {
    await reset();
    unloadableSavedState();
    writeFileSync(bad(), 'iptables -A INPUT -p tcp --dport 80 -j ACCEPT\nfalse\n');
    const r = await atBoot(`sh ${plugin()} start`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('iptables_zz-broken.sh');
    expect(r.stderr).toContain('could not restore /etc/iptables/rules.v4');
    expect(r.stderr).toMatch(/FAILSAFE: IPv4: .*the built-in failsafe is in place/);
    expect(r.stderr).toMatch(/FAILSAFE: IPv6: .*the built-in failsafe is in place/);
    for (const fam of [4, 6] as const) {
      const dump = await bench.iptablesSave(fam);
      expect(dump).toContain(':INPUT DROP');
      expect(dump).toContain(':OUTPUT DROP');
      expect(dump).toContain(':FORWARD DROP');
      expect(dump).toContain('-A INPUT -j GFW-FAILSAFE-IN');
      expect(dump).toContain('--dport 2222 -j ACCEPT');
      expect(dump).not.toContain(':GFW-INPUT ');
    }
    expect(await probe()).toEqual(['open', 'open', 'filtered', 'filtered', 'filtered']);

    // Run again (a restart): the failsafe is not stacked twice.
    await atBoot(`sh ${plugin()} restart`);
    expect((await bench.iptablesSave(4)).match(/-A INPUT -j GFW-FAILSAFE-IN/g)).toHaveLength(1);
  });

  it('the plugin: no saved state at all and iptables-init broken: the failsafe too', async () => {
    await reset();
    await bench.sh(bench.host, 'rm -f /etc/iptables/rules.v4 /etc/iptables/rules.v6 /etc/iptables/ipsets');
    writeFileSync(bad(), 'false\n');
    const r = await atBoot(`sh ${plugin()} start`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('FAILSAFE: IPv4');
    expect(await probe()).toEqual(['open', 'open', 'filtered', 'filtered', 'filtered']);
  });

  it('the pre-up hook: an unloadable saved state gives the failsafe, and the interface still comes up (exit 0)', async () => {
    await reset();
    unloadableSavedState();
    const r = await atBoot(`sh ${hook()}`);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('FAILSAFE: IPv6');
    expect(await probe()).toEqual(['open', 'open', 'filtered', 'filtered', 'filtered']);
  });

  it('a good iptables-init afterwards removes the failsafe; a saved state that loads replaces it', async () => {
    writeFileSync(bad(), '# fixed\n');
    const fixed = await atBoot('sh /usr/local/sbin/iptables-init --save');
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    for (const fam of [4, 6] as const) expect(await bench.iptablesSave(fam)).not.toContain('GFW-FAILSAFE');
    expect(await probe()).toEqual(['open', 'open', 'open', 'open', 'filtered']);

    // The failsafe in place (as after a failed boot), then a saved state that loads: it goes.
    const good = { v4: readFileSync(join(etc(), 'rules.v4'), 'utf8'), v6: readFileSync(join(etc(), 'rules.v6'), 'utf8') };
    await reset();
    unloadableSavedState();
    await atBoot(`sh ${hook()}`);
    expect(await bench.iptablesSave(4)).toContain('GFW-FAILSAFE-IN');
    writeFileSync(join(etc(), 'rules.v4'), good.v4);
    writeFileSync(join(etc(), 'rules.v6'), good.v6);
    const r = await atBoot(`sh ${hook()}`);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toContain('FAILSAFE');
    for (const fam of [4, 6] as const) {
      const dump = await bench.iptablesSave(fam);
      expect(dump).toContain(':GFW-INPUT ');
      expect(dump).not.toContain('GFW-FAILSAFE');
    }
    expect(await probe()).toEqual(['open', 'open', 'open', 'open', 'filtered']);
  });
});

// With ipv6: false the ruleset keeps IPv6 to loopback; the failsafe must not open it wider.
describe('the boot failsafe with ipv6: false', () => {
  let bench: Bench;
  let project: Project;

  beforeAll(async () => {
    bench = await Bench.create();
    project = makeProject({ host: 'ipv6: false\ninstall_dir: /usr/local/sbin\nssh: { port: 2222, rate_limit: false }\n' });
    await render(project);
    await bench.serve(bench.host, ['tcp:2222']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  it('keeps IPv6 to DROP policies and loopback: SSH reachable over IPv4, filtered over IPv6', async () => {
    await bench.sh(bench.host, 'rm -f /etc/iptables/rules.v4 /etc/iptables/rules.v6 /etc/iptables/ipsets');
    writeFileSync(join(project.out, 'rootfs/usr/local/sbin/iptables_conf.d/iptables_zz-broken.sh'), 'false\n');
    const plugin = join(project.out, 'rootfs/usr/share/netfilter-persistent/plugins.d/15-gen-fw');
    const r = await bench.exec(
      bench.host,
      'unshare',
      ['-m', 'sh', '-c', `mount --bind ${join(project.out, 'rootfs/usr/local/sbin')} /usr/local/sbin && sh ${plugin} start`],
      { reject: false },
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/FAILSAFE: IPv4: .*only SSH on port 2222 in/);
    expect(r.stderr).toMatch(/FAILSAFE: IPv6: .*loopback only: ipv6 is false/);
    const v6 = await bench.iptablesSave(6);
    expect(v6).toContain(':INPUT DROP');
    expect(v6).toContain('-A INPUT -j GFW-FAILSAFE-IN');
    expect(v6).not.toMatch(/--dport (2222|53|547)/);
    expect(await bench.iptablesSave(4)).toContain('--dport 2222 -j ACCEPT');
    expect(
      await bench.check(bench.peer, [
        { proto: 'tcp', host: bench.hostV4, port: 2222 },
        { proto: 'tcp', host: bench.hostV6, port: 2222 },
      ]),
    ).toEqual(['open', 'filtered']);
    // Loopback still works over IPv6.
    expect(await bench.check(bench.host, [{ proto: 'tcp', host: '::1', port: 2222 }])).toEqual(['open']);
  });
});
