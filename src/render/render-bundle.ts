import { join } from 'node:path';
import type { Config } from '../validate/validate-config.js';
import type { Policy, ChainRef, RulesetStream } from '../model/types.js';
import { sha256 } from '../shared/hash.js';
import { version } from '../version.js';
import type { Template } from './handlebars.js';
import { renderCheckFiles } from './render-check-files.js';
import { commentText } from './shell-quote.js';
import { renderServices } from './render-services.js';
import { hostOwnership } from '../shared/ownership.js';
import { ownershipSettings } from './ownership-settings.js';
import type { BundleSink } from './bundle.js';
import { conntrackSettings } from '../validate/conntrack-limits.js';

export type { Bundle, BundleFile, BundleSink } from './bundle.js';

function cmd(family: 4 | 6): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

/**
 * Render the bundle into `sink`, one file at a time: the fragments as the model yields them
 * and the pre-built records (render-services.ts), then the files that depend on every
 * service, and manifest.json last.
 */
export function renderBundle(config: Config, ruleset: RulesetStream, templates: ReadonlyMap<string, Template>, sink: BundleSink): void {
  const use = (name: string): Template => {
    const t = templates.get(name);
    if (!t) throw new Error(`template ${name}.hbs is missing`);
    return t;
  };
  // What the manifest lists (the fragments apart: their paths differ by name only).
  const written: { path: string; mode: number; sha256: string }[] = [];
  const emit = (path: string, mode: number, content: string): string => {
    const sum = sink.add(path, content, mode);
    written.push({ path, mode, sha256: sum });
    return sum;
  };
  const host = config.host;
  const hostInput = config.hostFile ? [config.hostFile] : [{ file: '(built-in host defaults)', sha256: sha256('') }];
  const allInputs = [...hostInput, ...config.services.map((s) => ({ file: s.file, sha256: s.sha256 }))];
  const root = (p: string) => join('rootfs', p);
  const ownership = ownershipSettings(hostOwnership(host));
  const limits = conntrackSettings(host.conntrack_limits);

  const rendered = renderServices(ruleset, use, { installDir: host.install_dir, hostInput }, sink);
  written.push({ ...rendered.prebuilt, mode: 0o644 });
  const { base, sets } = ruleset.rest();

  emit(
    root(join(host.install_dir, 'iptables-init')),
    0o755,
    use('iptables-init')({
      version,
      what: 'the master firewall script (iptables-init)',
      inputs: allInputs,
      ...ownership,
      // Plain literals of one shape: a spread that then overrides a key gives each object a
      // hidden class of its own (20,000 of them for 10,000 services).
      policies: base.policies.map((p: Policy) => ({ chain: p.chain, policy: p.policy, cmd: cmd(p.family) })),
      chains: base.chains.map((c: ChainRef) => ({ name: c.name, family: c.family, table: c.table })),
      jumps: base.jumps,
      sections: base.sections,
      conntrackSysctls: limits.map((l) => `${l.name} ${l.value}${l.initialOnly ? ' initial' : ''}`),
      sets: sets.map((set) => ({
        name: set.name,
        ipsetFamily: set.family === 4 ? 'inet' : 'inet6',
        maxelem: Math.max(65536, 2 ** Math.ceil(Math.log2(set.members.length + 1))),
      })),
    }),
  );

  for (const set of sets) {
    emit(
      root(join(host.install_dir, 'ipsets.d', `${set.name}.txt`)),
      0o644,
      `# gen-fw ${version}: members of ${set.name} (hash:net, IPv${set.family}), from ${commentText(set.origin)}\n${set.members.join('\n')}${set.members.length ? '\n' : ''}`,
    );
  }

  for (const [path, f] of renderCheckFiles(host, use, { version, inputs: hostInput, ...ownership })) {
    emit(path, f.mode, f.content);
  }

  // The boot failsafe (runtime/failsafe.sh) lets SSH in on the configured port; over IPv6
  // only with ipv6: true (with ipv6: false, IPv6 stays as the ruleset keeps it: loopback only).
  const sshPort = host.ssh ? host.ssh.port : { from: 22, to: 22 };
  const failsafeSshPort = sshPort.from === sshPort.to ? `${sshPort.from}` : `${sshPort.from}:${sshPort.to}`;
  const failsafeV6Open = host.ipv6 ? '1' : '0';
  if (limits.length) {
    emit(
      root('etc/sysctl.d/60-gen-fw.conf'),
      0o644,
      use('sysctl-conntrack.conf')({ version, what: 'conntrack limits (sysctl.d)', inputs: hostInput, limits }),
    );
    emit(
      root('etc/modules-load.d/gen-fw.conf'),
      0o644,
      use('modules-load-conntrack.conf')({ version, what: 'nf_conntrack at boot (modules-load.d)', inputs: hostInput }),
    );
  }

  if (host.persistence.pre_up) {
    emit(
      root('etc/network/if-pre-up.d/iptables-pre-up'),
      0o755,
      use('iptables-pre-up')({ version, what: 'the ifupdown pre-up restore hook', inputs: hostInput, failsafeSshPort, failsafeV6Open }),
    );
  }
  if (host.persistence.iptables_persistent) {
    emit(
      'debconf-selections',
      0o644,
      use('debconf-selections')({ version, what: 'debconf answers for iptables-persistent', inputs: hostInput }),
    );
  }

  // The bake step, and the netfilter-persistent plugin it puts in place of the stock ones.
  const initPath = join(host.install_dir, 'iptables-init');
  emit(
    'install.sh',
    0o755,
    use('install.sh')({
      version,
      what: 'the bake step (install.sh [--root DIR])',
      inputs: hostInput,
      installDir: host.install_dir,
      persistent: host.persistence.iptables_persistent,
    }),
  );
  if (host.persistence.iptables_persistent) {
    emit(
      root('usr/share/netfilter-persistent/plugins.d/15-gen-fw'),
      0o755,
      use('netfilter-persistent-plugin')({
        version,
        what: 'the netfilter-persistent plugin (15-gen-fw)',
        inputs: hostInput,
        initPath,
        failsafeSshPort,
        failsafeV6Open,
      }),
    );
  }

  // Always there, even with no service: where operators drop hand-written fragments.
  const fragmentDir = root(join(host.install_dir, 'iptables_conf.d'));
  emit(join(fragmentDir, 'README'), 0o644, use('iptables_conf.d-README')({ version }));
  for (const f of rendered.fragments) written.push({ path: join(fragmentDir, f.file), mode: 0o755, sha256: f.sha256 });
  written.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest = {
    generator: `gen-fw ${version}`,
    install_dir: host.install_dir,
    inputs: allInputs,
    services: rendered.services,
    sets: sets.map((s) => ({ name: s.name, family: `ipv${s.family}`, members: s.members.length, origin: s.origin })),
    files: written.map((f) => ({ path: f.path, mode: f.mode.toString(8).padStart(4, '0'), sha256: f.sha256 })),
  };
  sink.add('manifest.json', JSON.stringify(manifest, null, 2) + '\n', 0o644);
}
