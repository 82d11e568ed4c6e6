import { InputError, type Problem } from '../errors.js';
import { parseYamlFile } from '../parse/parse-yaml.js';
import { validateConfig, validateHost, validateService, type Config, type HostInput, type Service } from '../validate/validate-config.js';
import { readInputs } from './read-inputs.js';
import { readSets, type SetsRead } from './read-sets.js';
import type { HostConfig } from '../validate/schema.js';
import type { Address } from '../validate/values.js';
import { SourcePositions } from './source-positions.js';

export interface Loaded {
  config: Config;
  warnings: Problem[];
  /** Where each service's and gen-fw.yaml's keys sit, kept from the one parse. */
  positions: SourcePositions;
  /** The set files read while loading (the deny list's, for the lock-out guard): give it to readSets to read them once. */
  setsRead: SetsRead;
}

/**
 * read → parse → validate, one service file at a time: only the validated values of each
 * are kept, and where its rules sit (source-positions.ts), never its text or parsed document. Throws InputError carrying every problem
 * found: those of reading first, then YAML syntax, then validation, each in file order.
 */
export async function loadConfig(opts: { config?: string; confD: string }): Promise<Loaded> {
  const inputs = await readInputs(opts);
  const readProblems: Problem[] = [...inputs.problems];
  const parseProblems: Problem[] = [];
  const problems: Problem[] = [];
  const positions = new SourcePositions();

  let hostInput: HostInput | undefined;
  if (inputs.host) {
    const r = parseYamlFile(inputs.host.display, inputs.host.text);
    if (r.ok) {
      hostInput = { parsed: r.parsed, sha256: inputs.host.sha256 };
      positions.keepHost(r.parsed);
    } else parseProblems.push(...r.problems);
  }
  // gen-fw.yaml did not parse: validating services against defaults would give misleading messages.
  const hostParsed = !inputs.host || hostInput !== undefined;
  const host = hostParsed ? await validateHost(hostInput) : undefined;
  problems.push(...(host?.problems ?? []));

  const services: Service[] = [];
  for (const s of inputs.services) {
    if ('problem' in s) {
      readProblems.push(s.problem);
      continue;
    }
    const r = parseYamlFile(s.file.display, s.file.text);
    if (!r.ok) parseProblems.push(...r.problems);
    else if (host) {
      const v = await validateService({ name: s.name, parsed: r.parsed, sha256: s.file.sha256 }, host.host);
      problems.push(...v.problems);
      if (v.service) {
        services.push(v.service);
        positions.keepService(r.parsed);
      }
    }
  }
  if (!host) throw new InputError([...readProblems, ...parseProblems]);
  const setsRead: SetsRead = new Map();
  const v = validateConfig(host.host, hostInput, services, problems, await denySetMembers(host.host, inputs.host?.path, setsRead));
  const all = [...readProblems, ...parseProblems, ...v.problems];
  if (all.length > 0 || !v.config) throw new InputError(all);
  return { config: withImpliedSettings(v.config), warnings: v.warnings, positions, setsRead };
}

/**
 * The members of the sets the deny list names, for the lock-out guard (a deny set may cover
 * every address). A set file's own problems are reported when the sets are read for the render.
 */
async function denySetMembers(host: HostConfig | undefined, configPath: string | undefined, read: SetsRead): Promise<Address[]> {
  const names = host?.deny.source?.sets.filter((n) => Object.hasOwn(host.sets, n)) ?? [];
  if (!host || names.length === 0) return [];
  const { sets } = await readSets(host, configPath, names, read);
  return [...sets.values()].flatMap((s) => s.addresses);
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
