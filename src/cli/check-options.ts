import type { Command } from 'commander';
import type { CheckCommandOptions } from './check-command.js';
import { DEFAULT_IGNORE_CHAINS, DOCKER_BRIDGES } from '../shared/ownership.js';
import { addOptions, parsePlainArgs, type OptionSpec } from './plain-args.js';

/** `gen-fw check`'s options: commander builds --help and usage errors from these, parseCheckArgs reads them. */
export const CHECK_OPTIONS: readonly OptionSpec[] = [
  { flags: '--saved <file>', description: 'saved state (default: /etc/iptables/rules.v4 and rules.v6)' },
  { flags: '--live <file>', description: 'live state as iptables-save wrote it (default: run iptables-save / ip6tables-save)' },
  { flags: '--family <family>', description: 'ipv4, ipv6 or both (default: both; ipv4 when --saved or --live is given)' },
  {
    flags: '--ignore-chain <glob>',
    description: `leave out chains matching GLOB and the jumps into them (repeatable; default ${DEFAULT_IGNORE_CHAINS.join(' ')})`,
    repeatable: true,
  },
  {
    flags: '--ignore-interface <glob>',
    description: `leave out rules in the built-in chains whose -i or -o matches GLOB: Docker's own (repeatable; default ${DOCKER_BRIDGES.join(' ')})`,
    repeatable: true,
  },
  { flags: '--saved-sets <file>', description: 'saved ipsets (default: /etc/iptables/ipsets, when it exists)' },
  { flags: '--live-sets <file>', description: 'live ipsets as `ipset save` wrote them (default: run ipset save)' },
  { flags: '--format <format>', description: 'text, json or prometheus', default: 'text' },
];

/** Give commander's `check` command these options. */
export function addCheckOptions(command: Command): Command {
  return addOptions(command, CHECK_OPTIONS);
}

/** A plain `check` command line (what cron and scripts run), read without commander; see parsePlainArgs. */
export function parseCheckArgs(args: readonly string[]): CheckCommandOptions | undefined {
  return parsePlainArgs(CHECK_OPTIONS, args) as CheckCommandOptions | undefined;
}
