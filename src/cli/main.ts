#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { EnvironmentError, ExitError, InputError, formatProblem } from '../errors.js';
import { packageRoot, version } from '../version.js';
import { consoleReporter, type Reporter } from './reporter.js';
import type { CheckCommandOptions } from './check-command.js';

// Each command loads its own stage modules when it runs: `render` never pays for execa,
// `check` never for Handlebars, and --help and --version for neither.

const report: Reporter = consoleReporter();
let debug = false;

function configOption(value: string | undefined): string | undefined {
  if (value !== undefined) return value;
  return existsSync('gen-fw.yaml') ? 'gen-fw.yaml' : undefined;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('gen-fw')
    .description('Render the Tao of Ops firewall bundle (iptables-init, fragments, restore hook, drift check) from conf.d')
    .version(version, '-V, --version')
    .option('--debug', 'show stack traces for internal errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', (cmd) => {
      debug = Boolean(cmd.opts().debug);
    });

  program
    .command('render')
    .description('render the bundle into --out (replaced whole, or not at all)')
    .option('--config <file>', 'host settings (default: ./gen-fw.yaml when it exists, else built-in defaults)')
    .option('--conf-d <dir>', 'one NAME.yaml per service', './conf.d')
    .option('--templates <dir>', 'Handlebars templates', join(packageRoot, 'templates'))
    .option('--out <dir>', 'where the bundle goes', './build/firewall')
    .action(async (o: { config?: string; confD: string; templates: string; out: string }) => {
      const { renderCommand } = await import('./render-command.js');
      setExit(await renderCommand({ ...o, config: configOption(o.config) }, report));
    });

  program
    .command('lint')
    .description('validate gen-fw.yaml and conf.d without writing anything')
    .option('--config <file>', 'host settings (default: ./gen-fw.yaml when it exists)')
    .option('--conf-d <dir>', 'one NAME.yaml per service', './conf.d')
    .action(async (o: { config?: string; confD: string }) => {
      const { planBundle } = await import('./render-command.js');
      const bundle = await planBundle({ ...o, config: configOption(o.config), templates: join(packageRoot, 'templates') }, report);
      report.result(`ok: ${[...bundle.keys()].filter((k) => k.includes('iptables_conf.d/')).length} services`);
      setExit(0);
    });

  program
    .command('check')
    .description('compare the saved firewall with the live one: exit 0 in sync, 1 drift, 2 cannot check, 3 environment')
    .option('--saved <file>', 'saved state (default: /etc/iptables/rules.v4 and rules.v6)')
    .option('--live <file>', 'live state as iptables-save wrote it (default: run iptables-save / ip6tables-save)')
    .option('--family <family>', 'ipv4, ipv6 or both (default: both; ipv4 when --saved or --live is given)')
    .option(
      '--ignore-chain <glob>',
      'leave out chains matching GLOB and the jumps into them (repeatable; default DOCKER* KUBE-* CNI-* cali-*)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--ignore-interface <glob>',
      "leave out rules in the built-in chains whose -i or -o matches GLOB: Docker's own (repeatable; default docker0 br-*)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--saved-sets <file>', 'saved ipsets (default: /etc/iptables/ipsets, when it exists)')
    .option('--live-sets <file>', 'live ipsets as `ipset save` wrote them (default: run ipset save)')
    .option('--format <format>', 'text, json or prometheus', 'text')
    .action(async (o: CheckCommandOptions) => {
      const { checkCommand } = await import('./check-command.js');
      setExit(await checkCommand(o, report));
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors are input errors.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError) {
      for (const p of e.problems) report.error(formatProblem(p));
      const n = e.problems.length;
      process.stderr.write(`${n} problem${n === 1 ? '' : 's'}; nothing was written.\n`);
      return 2;
    }
    if (e instanceof ExitError) {
      if (e.message) report.error(e.message);
      return e.exitCode;
    }
    if (e instanceof EnvironmentError) {
      report.error(e.message);
      return 3;
    }
    report.error(`internal error: ${(e as Error).message ?? String(e)}${debug ? '\n' + (e as Error).stack : ' (run with --debug for details)'}`);
    return 3;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  () => process.exit(3),
);
