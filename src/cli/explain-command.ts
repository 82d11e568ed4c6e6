import { ExitError, InputError, type Problem } from '../errors.js';
import { compareKernel, type KernelAnswer } from '../explain/compare-kernel.js';
import { Unanswerable } from '../explain/explain.js';
import { explanationJson, formatExplanationText } from '../explain/format-explanation.js';
import { PACKET_KEYS, parsePacket, type Packet, type PacketDefaults } from '../explain/packet.js';
import { lookupUser } from '../system/users.js';
import { withKernelLab } from './kernel-lab.js';
import { loadExplainer, type ModelOptions } from './load-model.js';
import type { Reporter } from './reporter.js';

export interface ExplainOptions extends ModelOptions {
  kernel?: boolean;
  format: string;
  direction?: string;
  proto?: string;
  source?: string;
  destination?: string;
  sport?: string;
  dport?: string;
  interface?: string;
  user?: string;
  state?: string;
}

export const FORMATS = ['text', 'json'];

export function checkFormat(format: string, where: Problem['file'] = 'command line'): void {
  if (!FORMATS.includes(format)) throw new InputError([{ file: where, key: '--format', message: `"${format}" is not one of text, json` }]);
}

/** The packet the flags describe; every impossible field is an input problem (exit 2). */
export function packetFromFlags(o: ExplainOptions, defaults: PacketDefaults = {}): Packet {
  const raw: Record<string, unknown> = {};
  for (const key of PACKET_KEYS) if (o[key] !== undefined) raw[key] = o[key];
  const r = parsePacket(raw, lookupUser, defaults);
  if (!r.packet) throw new InputError(r.problems.map((p) => ({ file: 'command line', key: `--${p.key}`, message: p.message })));
  return r.packet;
}

/** Exit code of a verdict: 0 accepted, 1 dropped or rejected. */
export const verdictExit = (v: string) => (v === 'accept' ? 0 : 1);

export async function explainCommand(o: ExplainOptions, report: Reporter): Promise<number> {
  checkFormat(o.format);
  packetFromFlags(o); // an impossible packet is refused before the project is read
  const { config, explainer, locate } = await loadExplainer(o, report);
  const packet = packetFromFlags(o, { dockerBridges: explainer.opts.dockerBridges });
  let e;
  try {
    e = explainer.explain(packet);
  } catch (err) {
    if (err instanceof Unanswerable) throw new InputError([{ file: 'command line', key: `--${err.key}`, message: err.message }]);
    throw err;
  }
  let kernel: KernelAnswer | undefined;
  if (o.kernel) {
    const { kernelCannotSend } = await import('../system/netns.js');
    const why = kernelCannotSend(packet);
    if (why) throw new InputError([{ file: 'command line', key: '--kernel', message: why }]);
    kernel = await withKernelLab({ ...o, installDir: config.host.install_dir }, report, async (lab) =>
      compareKernel(explainer.table(packet.family), e, await lab.send(packet)),
    );
  }
  report.result(
    o.format === 'json' ? JSON.stringify(explanationJson(e, locate, kernel), null, 2) : formatExplanationText(e, locate, kernel),
  );
  if (kernel && !kernel.agrees) {
    throw new ExitError(
      3,
      `gen-fw bug: the kernel says ${kernel.verdict} and the model says ${e.verdict} for this packet (both are printed above)`,
    );
  }
  return verdictExit(e.verdict);
}
