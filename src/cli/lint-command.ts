import { ExitError, InputError } from '../errors.js';
import { loadConfig } from '../load/load-config.js';
import { readSets } from '../load/read-sets.js';
import { formatJson, formatText } from '../lint/format-findings.js';
import { lintConfig } from '../lint/lint.js';
import type { Reporter } from './reporter.js';

export interface LintCommandOptions {
  config?: string;
  confD: string;
  format: string;
}

const FORMATS = ['text', 'json'];

/** read → validate → model → lint. Returns the exit code: 0 no findings, 1 findings (2 comes as InputError). */
export async function lintCommand(o: LintCommandOptions, report: Reporter): Promise<number> {
  if (!FORMATS.includes(o.format)) throw new ExitError(2, `--format: ${JSON.stringify(o.format)} is not text or json`);
  const { config, warnings, positions, setsRead } = await loadConfig(o);
  const { sets, problems } = await readSets(config.host, config.hostFile ? (o.config ?? 'gen-fw.yaml') : undefined, undefined, setsRead);
  if (problems.length) throw new InputError(problems);
  report.warnings(warnings);
  const findings = lintConfig(config, sets, positions.positionOf);
  if (o.format === 'json') report.result(formatJson(findings));
  else if (findings.length) report.result(formatText(findings).join('\n'));
  else report.result(`no findings (${config.services.length} service${config.services.length === 1 ? '' : 's'})`);
  return findings.length ? 1 : 0;
}
