import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addCheckOptions, parseCheckArgs } from '../../src/cli/check-options.js';

/** What commander makes of a `check` command line, built from the same option table. */
function commanderOptions(args: string[]): Record<string, unknown> {
  const check = addCheckOptions(new Command('check').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  check.parse(args, { from: 'user' });
  return check.opts();
}

describe('gen-fw check reads a plain command line without commander', () => {
  it.each([
    [[]],
    [['--format', 'json']],
    [['--saved', 'a.v4', '--live', 'b.v4', '--family', 'ipv4']],
    [['--ignore-chain', 'f2b-*', '--ignore-chain', 'KUBE-*', '--ignore-interface', 'br-*']],
    [['--saved-sets', 's', '--live-sets', 'l', '--format', 'prometheus', '--format', 'text']],
  ])('as commander reads it: %j', (args) => {
    expect(parseCheckArgs(args)).toEqual(commanderOptions(args));
  });

  it.each([
    [['--help']],
    [['-h']],
    [['--bogus', 'x']],
    [['--saved']],
    [['--saved=a.v4']],
    [['--saved', '--live', 'b']],
    [['positional']],
  ])('leaves anything else to commander: %j', (args) => {
    expect(parseCheckArgs(args)).toBeUndefined();
  });
});
