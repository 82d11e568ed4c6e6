import type { Command } from 'commander';

/** One option of a command, as commander takes it ("--name <value>"). */
export interface OptionSpec {
  flags: string;
  description: string;
  repeatable?: boolean;
  default?: string;
}

/** Give a commander command these options (repeatable ones collect their values in a list). */
export function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    if (spec.repeatable) command.option(spec.flags, spec.description, (v: string, all: string[] = []) => [...all, v]);
    else command.option(spec.flags, spec.description, spec.default);
  }
  return command;
}

/** "--ignore-chain <glob>" → "--ignore-chain". */
function optionName(spec: OptionSpec): string {
  return spec.flags.split(' ')[0] as string;
}

/** The options object's key, as commander names it: "--ignore-chain" → "ignoreChain". */
function optionKey(spec: OptionSpec): string {
  return optionName(spec)
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A plain command line read without commander (whose loading, with the child_process, net
 * and stream modules it pulls in, is a tenth of what a small render or an in-sync check
 * takes): every word a known option followed by its value. Anything else (--help, an unknown
 * option, `--out=DIR`, a missing value or one that starts with "-") gives undefined, and
 * commander reads the line, with its own messages.
 */
export function parsePlainArgs(specs: readonly OptionSpec[], args: readonly string[]): Record<string, string | string[]> | undefined {
  const o: Record<string, string | string[]> = {};
  for (const spec of specs) if (spec.default !== undefined) o[optionKey(spec)] = spec.default;
  for (let i = 0; i < args.length; i += 2) {
    const spec = specs.find((s) => optionName(s) === args[i]);
    const value = args[i + 1];
    if (!spec || value === undefined || value.startsWith('-')) return undefined;
    const key = optionKey(spec);
    const before = o[key];
    o[key] = spec.repeatable ? [...(Array.isArray(before) ? before : []), value] : value;
  }
  return o;
}
