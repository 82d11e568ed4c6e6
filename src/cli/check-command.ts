import { ExitError } from '../errors.js';
import { hostFacts, planCheck, type CheckOptions } from '../check/plan-check.js';
import { startState } from '../check/read-state.js';
import type { Reporter } from './reporter.js';

export interface CheckCommandOptions extends CheckOptions {
  format: string;
}

const FORMATS = ['text', 'json', 'prometheus'];

/** plan → compare → report. Returns the exit code: 0 in sync, 1 drift, 2 cannot check, 3 environment. */
export async function checkCommand(o: CheckCommandOptions, report: Reporter): Promise<number> {
  if (!FORMATS.includes(o.format)) throw new ExitError(2, `--format: ${JSON.stringify(o.format)} is not text, json or prometheus`);
  const { specs, filter } = planCheck(o, hostFacts());
  // iptables-save is most of a check's time: it runs while the code that compares loads.
  const started = specs.map((s) => ({ ...s, saved: startState(s.saved), live: startState(s.live) }));
  const { checkRulesets, exitCodeOf } = await import('../check/check-rulesets.js');
  const { formatJson } = await import('../check/format-json.js');
  const { formatPrometheus } = await import('../check/format-prometheus.js');
  const { formatText, rulesetLabel } = await import('../check/format-text.js');
  const result = await checkRulesets(started, filter);
  for (const r of result.results) {
    const label = rulesetLabel(r.ruleset);
    if (r.error) report.error(`${label}: cannot check: ${r.error.message}`);
    report.warnings(r.findings.map((f) => ({ file: label, message: f })));
  }
  if (o.format === 'json') report.result(formatJson(result));
  else if (o.format === 'prometheus') report.result(formatPrometheus(result).join('\n'));
  else {
    const lines = formatText(result.results);
    if (lines.length) report.result(lines.join('\n'));
  }
  return exitCodeOf(result);
}
