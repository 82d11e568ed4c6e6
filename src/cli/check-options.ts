import type { Command } from 'commander';
import type { CheckCommandOptions } from './check-command.js';

/** One option of `gen-fw check`, as commander takes it ("--name <value>"). */
export interface CheckOptionSpec {
  flags: string;
  description: string;
  repeatable?: boolean;
  default?: string;
}

/** `gen-fw check`'s options: commander builds --help and usage errors from these, parseCheckArgs reads them. */
export const CHECK_OPTIONS: readonly CheckOptionSpec[] = [
  { flags: '--saved <file>', description: 'saved state (default: /etc/iptables/rules.v4 and rules.v6)' },
  { flags: '--live <file>', description: 'live state as iptables-save wrote it (default: run iptables-save / ip6tables-save)' },
  { flags: '--family <family>', description: 'ipv4, ipv6 or both (default: both; ipv4 when --saved or --live is given)' },
  {
    flags: '--ignore-chain <glob>',
    description: 'leave out chains matching GLOB and the jumps into them (repeatable; default DOCKER* KUBE-* CNI-* cali-*)',
    repeatable: true,
  },
  {
    flags: '--ignore-interface <glob>',
    description: "leave out rules in the built-in chains whose -i or -o matches GLOB: Docker's own (repeatable; default docker0 br-*)",
    repeatable: true,
  },
  { flags: '--saved-sets <file>', description: 'saved ipsets (default: /etc/iptables/ipsets, when it exists)' },
  { flags: '--live-sets <file>', description: 'live ipsets as `ipset save` wrote them (default: run ipset save)' },
  { flags: '--format <format>', description: 'text, json or prometheus', default: 'text' },
];

/** Give commander's `check` command these options (repeatable ones collect their values in a list). */
export function addCheckOptions(command: Command): Command {
  for (const spec of CHECK_OPTIONS) {
    if (spec.repeatable) command.option(spec.flags, spec.description, (v: string, all: string[] = []) => [...all, v]);
    else command.option(spec.flags, spec.description, spec.default);
  }
  return command;
}

/** "--ignore-chain <glob>" → "--ignore-chain". */
function optionName(spec: CheckOptionSpec): string {
  return spec.flags.split(' ')[0] as string;
}

/** The options object's key, as commander names it: "--ignore-chain" → "ignoreChain". */
function optionKey(spec: CheckOptionSpec): string {
  return optionName(spec)
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A plain `check` command line read without commander (whose loading is a tenth of what an
 * in-sync `gen-fw check` takes): every word a known option followed by its value. Anything
 * else (--help, an unknown option, `--saved=FILE`, a missing value or one that starts with
 * "-") gives undefined, and commander reads the line, with its own messages.
 */
export function parseCheckArgs(args: readonly string[]): CheckCommandOptions | undefined {
  const o: Record<string, string | string[]> = {};
  for (const spec of CHECK_OPTIONS) if (spec.default !== undefined) o[optionKey(spec)] = spec.default;
  for (let i = 0; i < args.length; i += 2) {
    const spec = CHECK_OPTIONS.find((s) => optionName(s) === args[i]);
    const value = args[i + 1];
    if (!spec || value === undefined || value.startsWith('-')) return undefined;
    const key = optionKey(spec);
    const before = o[key];
    o[key] = spec.repeatable ? [...(Array.isArray(before) ? before : []), value] : value;
  }
  return o as unknown as CheckCommandOptions;
}
