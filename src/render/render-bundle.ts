import { join } from 'node:path';
import type { Config } from '../validate/validate-config.js';
import type { Ruleset, Policy, ChainRef } from '../model/types.js';
import { sha256 } from '../load/read-inputs.js';
import { version } from '../version.js';
import type { Template } from './handlebars.js';
import { renderCheckFiles } from '../check/render-check-files.js';
import { commentText } from './shell-quote.js';
import { prebuiltRecords } from './prebuilt.js';
import { DOCKER_BRIDGES, globsToRegex } from '../validate/globs.js';
import type { HostConfig } from '../validate/schema.js';

export interface BundleFile {
  content: string;
  mode: number;
}

/** The bundle as files in memory, keyed by path relative to the bundle root, sorted. */
export type Bundle = Map<string, BundleFile>;

/** Docker's bridges, whose rules in the built-in chains are Docker's: the defaults, and docker.bridge when enabled. */
export function dockerBridgeGlobs(host: HostConfig): string[] {
  const globs = [...DOCKER_BRIDGES, ...(host.docker.enabled ? [host.docker.bridge] : [])];
  return [...new Set(globs)];
}

function cmd(family: 4 | 6): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

export function renderBundle(config: Config, ruleset: Ruleset, templates: ReadonlyMap<string, Template>): Bundle {
  const use = (name: string): Template => {
    const t = templates.get(name);
    if (!t) throw new Error(`template ${name}.hbs is missing`);
    return t;
  };
  const host = config.host;
  const hostInput = config.hostFile ? [config.hostFile] : [{ file: '(built-in host defaults)', sha256: sha256('') }];
  const allInputs = [...hostInput, ...config.services.map((s) => ({ file: s.file, sha256: s.sha256 }))];
  const root = (p: string) => join('rootfs', p);
  const files: [string, BundleFile][] = [];
  const owned = ['GFW-.*', ...(host.docker.enabled ? ['DOCKER-USER'] : [])];
  const bridges = dockerBridgeGlobs(host);
  const ignoreIfaces = { ignoreIfaceGlobs: bridges.join(' '), ignoreIfacesRegex: globsToRegex(bridges) };

  files.push([
    root(join(host.install_dir, 'iptables-init')),
    {
      mode: 0o755,
      content: use('iptables-init')({
        version,
        what: 'the master firewall script (iptables-init)',
        inputs: allInputs,
        ignoreGlobs: host.drift_check.ignore_chains.join(' ') || '(none)',
        ignoreRegex: globsToRegex(host.drift_check.ignore_chains),
        ownedRegex: `^(${owned.join('|')})$`,
        ...ignoreIfaces,
        policies: ruleset.base.policies.map((p: Policy) => ({ ...p, cmd: cmd(p.family) })),
        chains: ruleset.base.chains.map((c: ChainRef) => ({ ...c, cmd: cmd(c.family), table: c.table === 'filter' ? '' : c.table })),
        jumps: ruleset.base.jumps,
        sections: ruleset.base.sections,
        sets: ruleset.sets.map((set) => ({
          name: set.name,
          ipsetFamily: set.family === 4 ? 'inet' : 'inet6',
          maxelem: Math.max(65536, 2 ** Math.ceil(Math.log2(set.members.length + 1))),
        })),
      }),
    },
  ]);

  for (const set of ruleset.sets) {
    files.push([
      root(join(host.install_dir, 'ipsets.d', `${set.name}.txt`)),
      {
        mode: 0o644,
        content: `# gen-fw ${version}: members of ${set.name} (hash:net, IPv${set.family}), from ${commentText(set.origin)}\n${set.members.join('\n')}${set.members.length ? '\n' : ''}`,
      },
    ]);
  }

  const fragmentFile = (service: string) => `iptables_${service}.sh`;
  const fragmentSums: { file: string; sha256: string }[] = [];
  for (const fragment of ruleset.fragments) {
    const fileName = fragmentFile(fragment.service);
    const content = use('fragment.sh')({
      version,
      what: `the fragment for service ${fragment.service}`,
      inputs: [{ file: fragment.file, sha256: fragment.sha256 }],
      service: fragment.service,
      description: fragment.description ?? '',
      fileName,
      sections: fragment.sections,
    });
    fragmentSums.push({ file: fileName, sha256: sha256(content) });
    files.push([root(join(host.install_dir, 'iptables_conf.d', fileName)), { mode: 0o755, content }]);
  }
  files.push([
    root(join(host.install_dir, 'iptables-init.prebuilt')),
    {
      mode: 0o644,
      content: use('iptables-init.prebuilt')({
        version,
        what: "iptables_conf.d's generated fragments, captured at render time (iptables-init.prebuilt)",
        inputs: hostInput,
        dispatch: ruleset.dispatch.length > 0,
        fragments: fragmentSums,
        records: prebuiltRecords(ruleset, fragmentFile),
      }),
    },
  ]);

  const ownedRegex = `^(${owned.join('|')})$`;
  const ignoreRegex = globsToRegex(host.drift_check.ignore_chains);
  files.push(...renderCheckFiles(host, use, { version, inputs: hostInput, ignoreRegex, ownedRegex, ...ignoreIfaces }));

  if (host.persistence.pre_up) {
    files.push([
      root('etc/network/if-pre-up.d/iptables-pre-up'),
      { mode: 0o755, content: use('iptables-pre-up')({ version, what: 'the ifupdown pre-up restore hook', inputs: hostInput }) },
    ]);
  }
  if (host.persistence.iptables_persistent) {
    files.push([
      'debconf-selections',
      { mode: 0o644, content: use('debconf-selections')({ version, what: 'debconf answers for iptables-persistent', inputs: hostInput }) },
    ]);
  }

  // The bake step, and the netfilter-persistent plugin it puts in place of the stock ones.
  const initPath = join(host.install_dir, 'iptables-init');
  files.push([
    'install.sh',
    {
      mode: 0o755,
      content: use('install.sh')({
        version,
        what: 'the bake step (install.sh [--root DIR])',
        inputs: hostInput,
        installDir: host.install_dir,
        persistent: host.persistence.iptables_persistent,
      }),
    },
  ]);
  if (host.persistence.iptables_persistent) {
    files.push([
      root('usr/share/netfilter-persistent/plugins.d/15-gen-fw'),
      {
        mode: 0o755,
        content: use('netfilter-persistent-plugin')({ version, what: 'the netfilter-persistent plugin (15-gen-fw)', inputs: hostInput, initPath }),
      },
    ]);
  }

  files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const manifest = {
    generator: `gen-fw ${version}`,
    install_dir: host.install_dir,
    inputs: allInputs,
    services: ruleset.fragments.map((f) => f.service),
    sets: ruleset.sets.map((s) => ({ name: s.name, family: `ipv${s.family}`, members: s.members.length, origin: s.origin })),
    files: files.map(([path, f]) => ({ path, mode: f.mode.toString(8).padStart(4, '0'), sha256: sha256(f.content) })),
  };
  files.push(['manifest.json', { mode: 0o644, content: JSON.stringify(manifest, null, 2) + '\n' }]);
  return new Map(files);
}
