import type { Command } from 'commander';
import { join } from 'node:path';
import { packageRoot } from '../version.js';
import type { RenderOptions } from './render-command.js';
import { addOptions, parsePlainArgs, type OptionSpec } from './plain-args.js';

/** What render-command takes (a type only: nothing of it loads here). */
export type RenderCliOptions = RenderOptions;

/** `gen-fw render`'s options: commander builds --help and usage errors from these, parseRenderArgs reads them. */
export const RENDER_OPTIONS: readonly OptionSpec[] = [
  { flags: '--config <file>', description: 'host settings (default: ./gen-fw.yaml when it exists, else built-in defaults)' },
  { flags: '--conf-d <dir>', description: 'one NAME.yaml per service', default: './conf.d' },
  { flags: '--templates <dir>', description: 'Handlebars templates', default: join(packageRoot, 'templates') },
  {
    flags: '--out <dir>',
    description:
      'where the bundle goes: a directory that does not exist, is empty, or holds a bundle gen-fw made (replaced whole); anything else is refused',
    default: './build/firewall',
  },
];

/** Give commander's `render` command these options. */
export function addRenderOptions(command: Command): Command {
  return addOptions(command, RENDER_OPTIONS);
}

/** A plain `render` command line, read without commander; see parsePlainArgs. */
export function parseRenderArgs(args: readonly string[]): RenderCliOptions | undefined {
  return parsePlainArgs(RENDER_OPTIONS, args) as RenderCliOptions | undefined;
}
