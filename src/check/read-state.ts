import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { LEGACY_WARNING } from './parse-dump.js';

/** Where one side of a comparison comes from: a file, or a command's stdout (never its stderr). */
export type StateSource = { file: string } | { command: string; args: string[] };

/** Text to compare, or why there is none: 2 the input is missing or wrong, 3 the system failed. */
export type StateText = { text: string; findings: string[]; legacyTables: boolean } | { error: { code: 2 | 3; message: string } };

export function describeSource(source: StateSource): string {
  return 'file' in source ? source.file : [source.command, ...source.args].join(' ');
}

async function readStateFile(file: string): Promise<StateText> {
  try {
    return { text: await readFile(file, 'utf8'), findings: [], legacyTables: false };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`;
    return { error: { code: 2, message: `${file}: ${why}` } };
  }
}

/** Run iptables-save (or ipset save): stdout is the state; stderr lines become findings, never rules. */
async function runStateCommand(command: string, args: string[]): Promise<StateText> {
  const r = await execa(command, args, { reject: false, stripFinalNewline: false, env: { LC_ALL: 'C' } });
  if (r.failed) {
    const why = r.code === 'ENOENT' ? 'not found' : r.stderr.trim().split('\n').slice(0, 3).join('; ') || `exit code ${r.exitCode ?? '?'}`;
    return { error: { code: 3, message: `cannot run ${command}: ${why}` } };
  }
  const findings: string[] = [];
  let legacyTables = false;
  for (const line of r.stderr.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (LEGACY_WARNING.test(line)) legacyTables = true;
    else findings.push(`${command} said: ${line}`);
  }
  return { text: r.stdout, findings, legacyTables };
}

export function readState(source: StateSource): Promise<StateText> {
  return 'file' in source ? readStateFile(source.file) : runStateCommand(source.command, source.args);
}
