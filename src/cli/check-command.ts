import { ExitError } from '../errors.js';
import { checkRulesets, exitCodeOf } from '../check/check-rulesets.js';
import { formatJson } from '../check/format-json.js';
import { formatPrometheus } from '../check/format-prometheus.js';
import { formatText, rulesetLabel } from '../check/format-text.js';
import { hostFacts, planCheck, type CheckOptions } from '../check/plan-check.js';
import type { Reporter } from './reporter.js';

export interface CheckCommandOptions extends CheckOptions {
  format: string;
}

const FORMATS = ['text', 'json', 'prometheus'];

/** plan → compare → report. Returns the exit code: 0 in sync, 1 drift, 2 cannot check, 3 environment. */
export async function checkCommand(o: CheckCommandOptions, report: Reporter): Promise<number> {
  if (!FORMATS.includes(o.format)) throw new ExitError(2, `--format: ${JSON.stringify(o.format)} is not text, json or prometheus`);
  const { specs, filter } = planCheck(o, hostFacts());
  const result = await checkRulesets(specs, filter);
  for (const r of result.results) {
    const label = rulesetLabel(r.ruleset);
    if (r.error) report.error(`${label}: cannot check: ${r.error.message}`);
    for (const f of r.findings) report.warning({ file: label, message: f });
  }
  if (o.format === 'json') report.result(formatJson(result));
  else if (o.format === 'prometheus') report.result(formatPrometheus(result).join('\n'));
  else {
    const lines = formatText(result.results);
    if (lines.length) report.result(lines.join('\n'));
  }
  return exitCodeOf(result);
}
