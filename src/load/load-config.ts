import { InputError, type Problem } from '../errors.js';
import { parseYamlFile } from '../parse/parse-yaml.js';
import { validateConfig, type Config, type ServiceInput } from '../validate/validate-config.js';
import { readInputs } from './read-inputs.js';

export interface Loaded {
  config: Config;
  warnings: Problem[];
}

/** read → parse → validate. Throws InputError carrying every problem found. */
export async function loadConfig(opts: { config?: string; confD: string }): Promise<Loaded> {
  const inputs = await readInputs(opts);
  const problems: Problem[] = [...inputs.problems];

  let hostInput: Parameters<typeof validateConfig>[0];
  if (inputs.host) {
    const r = parseYamlFile(inputs.host.display, inputs.host.text);
    if (r.ok) hostInput = { parsed: r.parsed, sha256: inputs.host.sha256 };
    else problems.push(...r.problems);
  }
  const serviceInputs: ServiceInput[] = [];
  for (const s of inputs.services) {
    const r = parseYamlFile(s.file.display, s.file.text);
    if (r.ok) serviceInputs.push({ name: s.name, parsed: r.parsed, sha256: s.file.sha256 });
    else problems.push(...r.problems);
  }
  if (inputs.host && !hostInput) {
    // gen-fw.yaml did not parse; validating services against defaults would give misleading messages.
    throw new InputError(problems);
  }
  const v = validateConfig(hostInput, serviceInputs);
  problems.push(...v.problems);
  if (problems.length > 0 || !v.config) throw new InputError(problems);
  return { config: withImpliedSettings(v.config), warnings: v.warnings };
}

const IMPLIED_IGNORES = {
  docker: ['DOCKER*'],
  kubernetes: ['KUBE-*', 'CNI-*', 'cali-*'],
} as const;

/** Docker's and Kubernetes' chains are never gen-fw's to save or check, whatever ignore_chains lists. */
export function withImpliedSettings(config: Config): Config {
  const globs = [...config.host.drift_check.ignore_chains];
  if (config.host.docker.enabled) globs.push(...IMPLIED_IGNORES.docker);
  if (config.host.kubernetes.enabled) globs.push(...IMPLIED_IGNORES.kubernetes);
  const ignore_chains = [...new Set(globs)];
  return { ...config, host: { ...config.host, drift_check: { ...config.host.drift_check, ignore_chains } } };
}
