import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addCheckOptions, parseCheckArgs } from '../../src/cli/check-options.js';
import { addRenderOptions, parseRenderArgs } from '../../src/cli/render-options.js';

/** What commander makes of a command line, for a command built from the same option table. */
function commanderOptions(add: (c: Command) => Command, name: string, args: string[]): Record<string, unknown> {
  const command = add(new Command(name).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  command.parse(args, { from: 'user' });
  return command.opts();
}

/** Lines commander must read instead, with its own messages. */
const forCommander = [
  [['--help']],
  [['-h']],
  [['--bogus', 'x']],
  [['--saved']],
  [['--out']],
  [['--saved=a.v4']],
  [['--out=x']],
  [['positional']],
];

describe('gen-fw check reads a plain command line without commander', () => {
  it.each([
    [[]],
    [['--format', 'json']],
    [['--saved', 'a.v4', '--live', 'b.v4', '--family', 'ipv4']],
    [['--ignore-chain', 'f2b-*', '--ignore-chain', 'KUBE-*', '--ignore-interface', 'br-*']],
    [['--saved-sets', 's', '--live-sets', 'l', '--format', 'prometheus', '--format', 'text']],
  ])('as commander reads it: %j', (args) => {
    expect(parseCheckArgs(args)).toEqual(commanderOptions(addCheckOptions, 'check', args));
  });

  it.each([...forCommander, [['--saved', '--live', 'b']]])('leaves anything else to commander: %j', (args) => {
    expect(parseCheckArgs(args)).toBeUndefined();
  });
});

describe('gen-fw render reads a plain command line without commander', () => {
  it.each([
    [[]],
    [['--out', 'build/fw']],
    [['--config', 'host.yaml', '--conf-d', 'services', '--templates', 'tpl', '--out', '/tmp/x']],
    [['--out', 'a', '--out', 'b']],
  ])('as commander reads it: %j', (args) => {
    expect(parseRenderArgs(args)).toEqual(commanderOptions(addRenderOptions, 'render', args));
  });

  it.each([...forCommander, [['--out', '--config', 'y']]])('leaves anything else to commander: %j', (args) => {
    expect(parseRenderArgs(args)).toBeUndefined();
  });
});
