#!/usr/bin/env node
import './v8-tuning.js';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { EnvironmentError, ExitError, InputError, formatProblem } from '../errors.js';
import { version } from '../version.js';
import { consoleReporter, type Reporter } from './reporter.js';
import type { CheckCommandOptions } from './check-command.js';
import type { LintCommandOptions } from './lint-command.js';
import { addCheckOptions, parseCheckArgs } from './check-options.js';
import type { ExplainOptions } from './explain-command.js';
import type { VerifyOptions } from './verify-command.js';
import { addRenderOptions, parseRenderArgs, type RenderCliOptions } from './render-options.js';

// Each command loads its own stage modules when it runs: `render` never pays for execa,
// `check` never for Handlebars, and --help and --version for neither. A plain `check` or
// `render` command line (what cron, scripts and builds run) is read without loading
// commander at all.

const report: Reporter = consoleReporter();
let debug = false;

function configOption(value: string | undefined): string | undefined {
  if (value !== undefined) return value;
  return existsSync('gen-fw.yaml') ? 'gen-fw.yaml' : undefined;
}

async function runCheck(o: CheckCommandOptions): Promise<number> {
  const { checkCommand } = await import('./check-command.js');
  return checkCommand(o, report);
}

async function runLint(o: LintCommandOptions): Promise<number> {
  const { lintCommand } = await import('./lint-command.js');
  return lintCommand({ ...o, config: configOption(o.config) }, report);
}

async function runRender(o: RenderCliOptions): Promise<number> {
  const { renderCommand } = await import('./render-command.js');
  return renderCommand({ ...o, config: configOption(o.config) }, report);
}

function buildProgram(Program: typeof Command, setExit: (code: number) => void): Command {
  const program = new Program('gen-fw')
    .description('Render the Tao of Ops firewall bundle (iptables-init, fragments, restore hook, drift check) from conf.d')
    .version(version, '-V, --version')
    .option('--debug', 'show stack traces for internal errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', (cmd) => {
      debug = Boolean(cmd.opts().debug);
    });

  addRenderOptions(program.command('render').description('render the bundle into --out (replaced whole, or not at all)')).action(
    async (o: RenderCliOptions) => setExit(await runRender(o)),
  );

  program
    .command('lint')
    .description(
      'find rules that never match or change nothing, open database ports, SSH without a limit: exit 0 clean, 1 findings, 2 bad input',
    )
    .option('--config <file>', 'host settings (default: ./gen-fw.yaml when it exists)')
    .option('--conf-d <dir>', 'one NAME.yaml per service', './conf.d')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o: LintCommandOptions) => setExit(await runLint(o)));

  const modelOptions = (c: Command) =>
    c
      .option('--config <file>', 'host settings (default: ./gen-fw.yaml when it exists)')
      .option('--conf-d <dir>', 'one NAME.yaml per service', './conf.d')
      .option('--kernel', 'also prove it: load the rendered ruleset into a scratch network namespace and send the packet for real')
      .option('--format <format>', 'text or json', 'text');

  modelOptions(
    program
      .command('explain')
      .description(
        'what the firewall does with one packet, and why: exit 0 accepted, 1 dropped or rejected, 2 bad input, 3 environment (or the kernel disagrees)',
      ),
  )
    .option('--direction <dir>', 'in, out, forward, docker or docker-out')
    .option('--proto <proto>', 'tcp, udp, icmp or ipv6-icmp')
    .option('--source <addr>', 'source address')
    .option('--destination <addr>', 'destination address')
    .option('--sport <port>', 'source port (tcp, udp)')
    .option('--dport <port>', 'destination port (tcp, udp)')
    .option('--interface <if>', 'the interface it comes in on (out: leaves by); default eth0')
    .option('--user <user>', 'out only: the local user (name or uid) that sends it; default root')
    .option('--state <state>', 'new or established', 'new')
    .action(async (o: ExplainOptions) => {
      const { explainCommand } = await import('./explain-command.js');
      setExit(await explainCommand({ ...o, config: configOption(o.config) }, report));
    });

  modelOptions(
    program
      .command('verify')
      .description(
        'check a file of expectations (- { packet: {...}, expect: accept|drop|reject }): exit 0 all hold, 1 any does not, 2 bad input',
      )
      .argument('<file>', 'the expectations file'),
  ).action(async (file: string, o: VerifyOptions) => {
    const { verifyCommand } = await import('./verify-command.js');
    setExit(await verifyCommand(file, { ...o, config: configOption(o.config) }, report));
  });

  program
    .command('init')
    .description(
      'start a project in DIR (default .): gen-fw.yaml, conf.d/ with an example, expectations.yaml, packer/; never overwrites a file',
    )
    .argument('[dir]', 'the project directory', '.')
    .action(async (dir: string) => {
      const { initCommand } = await import('./init-command.js');
      setExit(await initCommand(dir, report));
    });

  program
    .command('schema')
    .description('write JSON Schemas of gen-fw.yaml, conf.d/*.yaml and expectations files, for editors')
    .option('--out <dir>', 'where to write them', './schema')
    .action(async (o: { out: string }) => {
      const { schemaCommand } = await import('./schema-command.js');
      setExit(await schemaCommand(o.out, report));
    });

  addCheckOptions(
    program
      .command('check')
      .description('compare the saved firewall with the live one: exit 0 in sync, 1 drift, 2 cannot check, 3 environment'),
  ).action(async (o: CheckCommandOptions) => setExit(await runCheck(o)));

  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    const check = argv[2] === 'check' ? parseCheckArgs(argv.slice(3)) : undefined;
    if (check) return await runCheck(check);
    const render = argv[2] === 'render' ? parseRenderArgs(argv.slice(3)) : undefined;
    if (render) return await runRender(render);
    const { Command, CommanderError } = await import('commander');
    let code = 0;
    const program = buildProgram(Command, (c) => (code = c));
    try {
      await program.parseAsync(argv);
      return code;
    } catch (e) {
      // --help and --version exit 0; usage errors are input errors.
      if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
      throw e;
    }
  } catch (e) {
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
    report.error(
      `internal error: ${(e as Error).message ?? String(e)}${debug ? '\n' + (e as Error).stack : ' (run with --debug for details)'}`,
    );
    return 3;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  () => process.exit(3),
);
