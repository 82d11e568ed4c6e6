import { formatProblem, type Problem } from '../errors.js';

/** Messages to stderr, results to stdout; colour only on a TTY and never with NO_COLOR. */
export interface Reporter {
  result(text: string): void;
  error(text: string): void;
  /** Warnings, in their order, written at once (render may have a thousand). */
  warnings(ps: readonly Problem[]): void;
}

export function consoleReporter(): Reporter {
  const colour = process.stderr.isTTY === true && !('NO_COLOR' in process.env);
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    result: (text) => process.stdout.write(text + '\n'),
    error: (text) => process.stderr.write(`${paint('31', 'error:')} ${text}\n`),
    warnings: (ps) => {
      if (ps.length > 0) process.stderr.write(ps.map((p) => `${paint('33', 'warning:')} ${formatProblem(p)}\n`).join(''));
    },
  };
}
