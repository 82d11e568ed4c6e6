/** A problem in the user's input, with where it is. */
export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** Dotted key path, e.g. `rules[0].dport`. */
  key?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.col !== undefined) where += `:${p.col}`;
  const text = p.key ? `${where} ${p.key}: ${p.message}` : `${where}: ${p.message}`;
  // File names and keys come from the input: no terminal escapes, one line per problem.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Exit code 2: the input is wrong. Carries every problem found, not just the first. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** Exit code 3: the environment failed us (cannot write, cannot run a tool). */
export class EnvironmentError extends Error {
  readonly exitCode = 3;
}

/** An error that carries its own exit code and message (e.g. `check` found drift: 1). */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}
