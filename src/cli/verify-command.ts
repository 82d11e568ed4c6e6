import { readFileSync } from 'node:fs';
import { ExitError, InputError } from '../errors.js';
import { compareKernel, type KernelAnswer } from '../explain/compare-kernel.js';
import { describeOrigin } from '../explain/describe-origin.js';
import { Unanswerable } from '../explain/explain.js';
import { explanationJson } from '../explain/format-explanation.js';
import { describePacket } from '../explain/packet.js';
import { readExpectations, type Expectation } from '../explain/read-expectations.js';
import type { Explanation } from '../explain/walk.js';
import { displayPath } from '../load/read-inputs.js';
import { lookupUser } from '../system/users.js';
import { checkFormat } from './explain-command.js';
import { withKernelLab } from './kernel-lab.js';
import { loadExplainer, type ModelOptions } from './load-model.js';
import type { Reporter } from './reporter.js';

export interface VerifyOptions extends ModelOptions {
  kernel?: boolean;
  format: string;
}

interface Outcome {
  x: Expectation;
  e: Explanation;
  kernel?: KernelAnswer;
  holds: boolean;
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([
      { file: displayPath(file), message: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` },
    ]);
  }
}

/** Each expectation against the model (and, with --kernel, the kernel): exit 0 all hold, 1 any does not. */
export async function verifyCommand(file: string, o: VerifyOptions, report: Reporter): Promise<number> {
  checkFormat(o.format);
  const shown = displayPath(file);
  const text = readFile(file);
  // A malformed file is refused before the project is read; the packets are read again with
  // the project's defaults (a docker-out packet's bridge).
  const first = readExpectations(shown, text, lookupUser);
  if (first.problems.length) throw new InputError(first.problems);
  const { config, explainer, locate } = await loadExplainer(o, report);
  const { expectations } = readExpectations(shown, text, lookupUser, { dockerBridges: explainer.opts.dockerBridges });
  const outcomes: Outcome[] = expectations.map((x, i) => {
    try {
      const e = explainer.explain(x.packet);
      return { x, e, holds: e.verdict === x.expect };
    } catch (err) {
      if (err instanceof Unanswerable)
        throw new InputError([{ file: shown, line: x.line, key: `[${i}].packet.${err.key}`, message: err.message }]);
      throw err;
    }
  });
  if (o.kernel) {
    const { kernelCannotSend } = await import('../system/netns.js');
    const refused = outcomes.flatMap((r, i) => {
      const why = kernelCannotSend(r.x.packet);
      return why ? [{ file: shown, line: r.x.line, key: `[${i}].packet`, message: why }] : [];
    });
    if (refused.length) throw new InputError(refused);
    await withKernelLab({ ...o, installDir: config.host.install_dir }, report, async (lab) => {
      for (const r of outcomes) r.kernel = compareKernel(explainer.table(r.x.packet.family), r.e, await lab.send(r.x.packet));
    });
  }
  const failed = outcomes.filter((r) => !r.holds).length;
  const disagree = outcomes.filter((r) => r.kernel && !r.kernel.agrees);
  if (o.format === 'json') {
    report.result(
      JSON.stringify(
        {
          file: shown,
          held: outcomes.length - failed,
          failed,
          expectations: outcomes.map((r) => ({
            line: r.x.line,
            expect: r.x.expect,
            holds: r.holds,
            ...explanationJson(r.e, locate, r.kernel),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    for (const r of outcomes) {
      const verdict = `${r.e.verdict} by ${describeOrigin(r.e.decided, r.e.verdict, locate)}`;
      const kernel = r.kernel ? `; kernel: ${r.kernel.verdict}${r.kernel.agrees ? '' : ' (DISAGREES with the model: a gen-fw bug)'}` : '';
      const where = r.x.line !== undefined ? `${shown}:${r.x.line}` : shown;
      report.result(
        `${where}: ${r.holds ? 'held' : 'does not hold'}: expect ${r.x.expect}: ${describePacket(r.x.packet)}: ${verdict}${kernel}`,
      );
    }
    report.result(`${outcomes.length - failed} of ${outcomes.length} expectations hold${o.kernel ? ' (proved in the kernel)' : ''}`);
  }
  if (disagree.length)
    throw new ExitError(
      3,
      `gen-fw bug: the kernel and the model disagree on ${disagree.length} packet${disagree.length === 1 ? '' : 's'} (see above)`,
    );
  return failed ? 1 : 0;
}
