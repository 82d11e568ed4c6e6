import { InputError } from '../errors.js';
import { Explainer } from '../explain/explain.js';
import { ruleLocator, type RuleLocator } from '../explain/rule-positions.js';
import { loadConfig } from '../load/load-config.js';
import { readSets } from '../load/read-sets.js';
import { compileRuleset } from '../model/compile-ruleset.js';
import type { Config } from '../validate/validate-config.js';
import { lookupGroup, lookupUser } from '../system/users.js';
import type { Reporter } from './reporter.js';

export interface ModelOptions {
  config?: string;
  confD: string;
}

/** read → validate → model, for the commands that reason about the ruleset (explain, verify). */
export async function loadExplainer(
  opts: ModelOptions,
  report: Reporter,
): Promise<{ config: Config; explainer: Explainer; locate: RuleLocator }> {
  const { config, warnings, positions, setsRead } = await loadConfig(opts);
  const { sets, problems } = await readSets(config.host, config.hostFile ? (opts.config ?? 'gen-fw.yaml') : undefined, undefined, setsRead);
  if (problems.length) throw new InputError(problems);
  report.warnings(warnings);
  const explainer = new Explainer(compileRuleset(config, sets), {
    dockerBridges: config.host.docker.enabled ? config.host.docker.bridge : undefined,
    owners: { uid: (name) => lookupUser(name)?.uid, gid: lookupGroup },
  });
  return { config, explainer, locate: ruleLocator(positions.positionOf) };
}
