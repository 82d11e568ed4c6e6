import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { LEGACY_WARNING } from './parse-dump.js';

/** Where one side of a comparison comes from: a file, or a command's stdout (never its stderr). */
export type StateSource = { file: string } | { command: string; args: string[] };

/** Text to compare, or why there is none: 2 the input is missing or wrong, 3 the system failed. */
export type StateText = StateRead | { error: { code: 2 | 3; message: string } };
export interface StateRead {
  text: string;
  findings: string[];
  legacyTables: boolean;
}

/** A read begun before anybody listens: its output waits (in memory) for `consume`. */
export interface StartedState {
  source: StateSource;
  consume(sink: StateSink): Promise<StateText>;
}

export function describeSource(source: StateSource | StartedState): string {
  if ('consume' in source) return describeSource(source.source);
  return 'file' in source ? source.file : [source.command, ...source.args].join(' ');
}

/** Sees the state as it is read, piece by piece (the whole text is in the result too). */
export type StateSink = (piece: string) => void;

async function readStateFile(file: string, sink: StateSink): Promise<StateText> {
  try {
    const text = await readFile(file, 'utf8');
    sink(text);
    return { text, findings: [], legacyTables: false };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`;
    return { error: { code: 2, message: `${file}: ${why}` } };
  }
}

interface Ran {
  stdout: string;
  stderr: string;
  /** The exit code; null when a signal ended it, or when it never ran (then `spawnError` says why). */
  exitCode: number | null;
  spawnError?: NodeJS.ErrnoException;
}

/**
 * Run a command to its end with node:child_process (no execa: it costs `gen-fw check` ~100 ms
 * to load), handing its stdout to `sink` as it comes.
 */
function run(command: string, args: string[], sink: StateSink): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: string[] = [];
    const err: Buffer[] = [];
    const decoder = new StringDecoder('utf8');
    const take = (piece: string) => {
      if (piece === '') return;
      out.push(piece);
      sink(piece);
    };
    child.stdout.on('data', (b: Buffer) => take(decoder.write(b)));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
    child.on('close', (code) => {
      take(decoder.end());
      const ran: Ran = { stdout: out.join(''), stderr: Buffer.concat(err).toString('utf8'), exitCode: code };
      resolve(spawnError ? { ...ran, exitCode: null, spawnError } : ran);
    });
  });
}

/** Run iptables-save (or ipset save): stdout is the state; stderr lines become findings, never rules. */
async function runStateCommand(command: string, args: string[], sink: StateSink): Promise<StateText> {
  const r = await run(command, args, sink);
  if (r.exitCode !== 0) {
    const why =
      r.spawnError?.code === 'ENOENT'
        ? 'not found'
        : r.stderr.trim().split('\n').slice(0, 3).join('; ') || (r.spawnError?.message ?? `exit code ${r.exitCode ?? '?'}`);
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

export function readState(source: StateSource | StartedState, sink: StateSink = () => {}): Promise<StateText> {
  return 'consume' in source ? source.consume(sink) : startState(source).consume(sink);
}

/**
 * Begin a read now and hand its pieces to a sink given later: `gen-fw check` starts
 * iptables-save before it loads the code that compares (iptables-save is most of its time).
 */
export function startState(source: StateSource): StartedState {
  let sink: StateSink | undefined;
  const early: string[] = [];
  const take = (piece: string) => (sink ? sink(piece) : early.push(piece));
  const done = 'file' in source ? readStateFile(source.file, take) : runStateCommand(source.command, source.args, take);
  return {
    source,
    consume: (s) => {
      if (sink) throw new Error(`${describeSource(source)} is read once`);
      sink = s;
      for (const piece of early.splice(0)) s(piece);
      return done;
    },
  };
}
