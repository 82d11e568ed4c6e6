import { InputError } from '../errors.js';
import { loadConfig } from '../load/load-config.js';
import { readSets } from '../load/read-sets.js';
import { compileRuleset } from '../model/compile-ruleset.js';
import { loadTemplates } from '../render/handlebars.js';
import { renderBundle, type Bundle } from '../render/render-bundle.js';
import { writeBundle } from '../emit/write-bundle.js';
import type { Reporter } from './reporter.js';

export interface RenderOptions {
  config?: string;
  confD: string;
  templates: string;
  out: string;
}

/** read → plan → render, all in memory: nothing is written here. */
export async function planBundle(opts: Omit<RenderOptions, 'out'>, report: Reporter): Promise<Bundle> {
  const { config, warnings } = await loadConfig(opts);
  const { sets, problems } = await readSets(config.host, config.hostFile ? opts.config ?? 'gen-fw.yaml' : undefined);
  if (problems.length) throw new InputError(problems);
  for (const w of warnings) report.warning(w);
  const ruleset = compileRuleset(config, sets);
  return renderBundle(config, ruleset, loadTemplates(opts.templates));
}

export async function renderCommand(opts: RenderOptions, report: Reporter): Promise<number> {
  const bundle = await planBundle(opts, report);
  await writeBundle(bundle, opts.out);
  report.result(`rendered ${bundle.size} files into ${opts.out}`);
  return 0;
}
