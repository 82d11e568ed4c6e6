import { dirname } from 'node:path';
import { InputError } from '../errors.js';
import { loadConfig } from '../load/load-config.js';
import { readSets } from '../load/read-sets.js';
import { compileRulesetStream } from '../model/compile-ruleset.js';
import { loadTemplates } from '../render/handlebars.js';
import { renderBundle } from '../render/render-bundle.js';
import { memorySink, type Bundle, type BundleSink } from '../render/bundle.js';
import { emitBundle } from '../emit/write-bundle.js';
import type { Reporter } from './reporter.js';

export interface RenderOptions {
  config?: string;
  confD: string;
  templates: string;
  out: string;
}

/**
 * read → validate → plan. Every input problem is found here, before anything is written;
 * what is returned renders the bundle into a sink (compiling each fragment as it goes) and
 * then reports lint's findings on the same fragments as warnings.
 */
export async function planRender(opts: Omit<RenderOptions, 'out'>, report: Reporter): Promise<(sink: BundleSink) => void> {
  const { config, warnings, positions, setsRead } = await loadConfig(opts);
  const { sets, problems } = await readSets(config.host, config.hostFile ? (opts.config ?? 'gen-fw.yaml') : undefined, undefined, setsRead);
  if (problems.length) throw new InputError(problems);
  report.warnings(warnings);
  const { lintAlong, findingProblems } = await import('../lint/lint.js');
  const { templates } = loadTemplates(opts.templates);
  return (sink) => {
    // Lint reads the fragments as they are rendered (one compile); its findings are warnings.
    const lint = lintAlong(compileRulesetStream(config, sets));
    renderBundle(config, lint.stream, templates, sink);
    report.warnings(findingProblems(lint.findings(config, positions.positionOf)));
  };
}

/** The whole bundle in memory: nothing is written. */
export async function planBundle(opts: Omit<RenderOptions, 'out'>, report: Reporter): Promise<Bundle> {
  const render = await planRender(opts, report);
  const sink = memorySink();
  render(sink);
  return sink.bundle();
}

export async function renderCommand(opts: RenderOptions, report: Reporter): Promise<number> {
  const render = await planRender(opts, report);
  const keep = { projectDirs: [process.cwd(), ...(opts.config ? [dirname(opts.config)] : [])], config: opts.config, confD: opts.confD };
  const { files, unchanged, recovered } = await emitBundle(opts.out, render, keep);
  if (recovered)
    report.warnings([{ file: opts.out, message: 'put back the previous bundle, which an interrupted render had moved aside' }]);
  report.result(unchanged ? `${opts.out} already holds these ${files} files: left as it was` : `rendered ${files} files into ${opts.out}`);
  return 0;
}
