import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import type { HostConfig, RuleConfig } from './schema.js';
import { ValueError, parseInterface, show } from './values.js';
import { problemAt } from './problems.js';

// Docker's keys (issue 13): docker.bridge as a list, direction: docker-out, and the owner
// match (user, group) of out rules. The value parsers are used by the schema and the fast
// path alike; checkDockerRule is the cross-field part of checking a rule.

/** docker.bridge when gen-fw.yaml does not say: one owner, src/shared/ownership.ts. */
export { DOCKER_BRIDGES as DEFAULT_DOCKER_BRIDGES } from '../shared/ownership.js';

/**
 * docker.bridge: one interface name or a list of them, "+" at the end as in iptables. A
 * glob that matches every interface ("+") would make every routed packet a container's
 * (and the drift check leave out every rule with an -i or -o), so it is refused.
 */
export function parseBridgeList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new ValueError('an empty list of bridges: leave docker.bridge out for the default [docker0, "br-+"]');
  const out: string[] = [];
  for (const item of items) {
    const name = parseInterface(item);
    if (name === '+') {
      throw new ValueError(`${show(item)} matches every interface, not only Docker's bridges: name them (docker0, "br-+", docker-sandbox)`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** A user or group as the owner match takes it: a plain name as useradd makes them, or a number. */
const OWNER_NAME_RE = /^[a-z_][a-z0-9_-]*\$?$/;

export function parseOwner(value: unknown): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof text !== 'string' || text.length > 32 || !(OWNER_NAME_RE.test(text) || /^\d{1,10}$/.test(text)) || Number(text) > 4294967294) {
    throw new ValueError(`${show(value)} is not a user or group (a name of lower-case letters, digits, "_" and "-", or a number)`);
  }
  return text;
}

/** The checks of a rule that involve Docker's keys or the owner match. */
export function checkDockerRule(rule: RuleConfig, host: HostConfig, file: ParsedFile, path: PropertyKey[], problems: Problem[]): void {
  const at = (key: string, message: string) => problems.push(problemAt(file, [...path, key], message));
  for (const key of ['user', 'group'] as const) {
    if (rule[key] !== undefined && rule.direction !== 'out') {
      at(
        key,
        `${key} matches the local process that sends a packet, so it works on out rules only (this rule's direction is ${rule.direction})`,
      );
    }
  }
  if (rule.direction === 'docker-out') {
    if (!host.docker.enabled) at('direction', 'direction: docker-out needs docker: { enabled: true } in gen-fw.yaml');
    if (rule.rate_limit) at('rate_limit', 'rate_limit is not taken on docker-out rules: they accept, drop or reject what containers start');
  }
}
