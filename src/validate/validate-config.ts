import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import { checkDockerRule } from './docker.js';
import { checkAudit } from './audit.js';
import { checkNotrack } from './notrack.js';
import { hostSchema, serviceSchema, type HostConfig, type RuleConfig } from './schema.js';
import { checkValue, mustCheck, type Node } from './spec.js';
import type { Address, AddressSpec, Family } from './values.js';
import { checkLockOut } from './lock-out.js';
import { problemAt, problemsOf } from './problems.js';

export const SERVICE_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,21}$/;

export interface SourceFile {
  /** As shown to people and written into headers, e.g. `conf.d/etcd.yaml`. */
  file: string;
  sha256: string;
}

export interface Service extends SourceFile {
  name: string;
  description?: string;
  rules: RuleConfig[];
}

export interface Config {
  host: HostConfig;
  /** Absent when built-in defaults were used. */
  hostFile?: SourceFile;
  services: Service[];
}

export interface Validated {
  config?: Config;
  problems: Problem[];
  warnings: Problem[];
}

export interface ServiceInput {
  name: string;
  parsed: ParsedFile;
  sha256: string;
}

export interface HostInput {
  parsed: ParsedFile;
  sha256: string;
}

type Checked<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** One file's data against its definition (schema.ts): its values, or every problem with file, line and key. */
function validateData<T>(parsed: ParsedFile, schema: Node<T>): Checked<T> {
  const r = checkValue(schema, parsed.data ?? {});
  return r.ok ? r : { ok: false, problems: problemsOf(parsed, r.issues) };
}

/** gen-fw.yaml's settings (the built-in defaults without one); problems when it is wrong. */
export async function validateHost(hostInput: HostInput | undefined): Promise<{ host?: HostConfig; problems: Problem[] }> {
  if (!hostInput) return { host: builtInHost(), problems: [] };
  const problems: Problem[] = [];
  const r = validateData(hostInput.parsed, hostSchema);
  if (!r.ok) return { problems: r.problems };
  checkHost(r.value, hostInput.parsed, problems);
  return { host: r.value, problems };
}

/**
 * One service file: its values, or the problems with it. The result holds only values,
 * not the parsed document, so files can be validated one at a time as they are read.
 * Without `host` (gen-fw.yaml was wrong), only the file's own shape is checked.
 */
export async function validateService(
  input: ServiceInput,
  host: HostConfig | undefined,
): Promise<{ service?: Service; problems: Problem[] }> {
  const { parsed } = input;
  if (!SERVICE_NAME_RE.test(input.name)) {
    const message = `"${input.name}" is not a service name: the file name must match ^[a-z0-9][a-z0-9_-]{0,21}$ (lower-case letters, digits, "_" and "-")`;
    return { problems: [{ file: parsed.file, message }] };
  }
  const r = validateData(parsed, serviceSchema);
  if (!r.ok) return { problems: r.problems };
  const problems: Problem[] = [];
  r.value.rules.forEach((rule, i) => checkAudit(rule, parsed, ['rules', i], problems));
  if (host) r.value.rules.forEach((rule, i) => checkRule(rule, host, parsed, ['rules', i], problems));
  return {
    service: { name: input.name, file: parsed.file, sha256: input.sha256, description: r.value.description, rules: r.value.rules },
    problems,
  };
}

/** The host settings of an empty gen-fw.yaml: the defaults of schema.ts. */
export function builtInHost(): HostConfig {
  return mustCheck(hostSchema, {});
}

/**
 * The checks that need the whole config (lock-out), and the config when nothing was wrong
 * anywhere. `denySetMembers`: the addresses read from the set files the deny list names.
 */
export function validateConfig(
  host: HostConfig | undefined,
  hostInput: HostInput | undefined,
  services: Service[],
  problems: Problem[],
  denySetMembers: readonly Address[] = [],
): Validated {
  const warnings: Problem[] = [];
  if (host) {
    checkLockOut(host, services, hostInput?.parsed, denySetMembers, problems);
    checkPolicies(host, hostInput?.parsed, problems, warnings);
  }
  if (problems.length > 0 || !host) return { problems, warnings };
  return {
    config: { host, hostFile: hostInput ? { file: hostInput.parsed.file, sha256: hostInput.sha256 } : undefined, services },
    problems,
    warnings,
  };
}

function families(spec: AddressSpec | undefined): Set<Family> {
  const out = new Set<Family>();
  if (!spec) return out;
  for (const a of spec.addresses) out.add(a.family);
  if (spec.sets.length) {
    out.add(4);
    out.add(6);
  }
  return out;
}

function checkAddresses(spec: AddressSpec | undefined, host: HostConfig, file: ParsedFile, path: PropertyKey[], problems: Problem[]): void {
  if (!spec) return;
  if (!host.ipv6) {
    const v6 = spec.addresses.find((a) => a.family === 6);
    if (v6) problems.push(problemAt(file, path, `${v6.text} is an IPv6 address but gen-fw.yaml says ipv6: false`));
  }
  for (const name of spec.sets) {
    if (!(name in host.sets)) {
      const known = Object.keys(host.sets);
      problems.push(
        problemAt(
          file,
          path,
          `unknown set "@${name}" (sets are defined under "sets:" in gen-fw.yaml${known.length ? `; known: ${known.map((k) => '@' + k).join(', ')}` : ''})`,
        ),
      );
    }
  }
}

function checkRule(rule: RuleConfig, host: HostConfig, file: ParsedFile, path: PropertyKey[], problems: Problem[]): void {
  const at = (key: string, message: string) => problems.push(problemAt(file, [...path, key], message));
  if ((rule.dport || rule.sport) && rule.proto !== 'tcp' && rule.proto !== 'udp') {
    at(rule.dport ? 'dport' : 'sport', `ports need proto: tcp or proto: udp (proto is ${rule.proto})`);
  }
  checkAddresses(rule.source, host, file, [...path, 'source'], problems);
  checkAddresses(rule.destination, host, file, [...path, 'destination'], problems);
  const src = families(rule.source);
  const dst = families(rule.destination);
  if (src.size && dst.size && ![...src].some((f) => dst.has(f))) {
    at('destination', 'source and destination are of different address families, so no rule can match both');
  }
  const all = new Set([...src, ...dst]);
  if (rule.proto === 'icmp' && all.size && !all.has(4)) at('proto', 'icmp is IPv4 only; use ipv6-icmp for IPv6 addresses');
  if (rule.proto === 'ipv6-icmp' && all.size && !all.has(6)) at('proto', 'ipv6-icmp is IPv6 only; use icmp for IPv4 addresses');
  if (rule.proto === 'ipv6-icmp' && !host.ipv6) at('proto', 'ipv6-icmp needs ipv6: true in gen-fw.yaml');
  if (rule.rate_limit && rule.direction === 'out')
    at('rate_limit', 'rate_limit counts connections per source, so it works on in, forward and docker rules only');
  if (rule.rate_limit && rule.action !== 'accept')
    at('rate_limit', `rate_limit limits what a rule accepts; this rule's action is ${rule.action}`);
  if (rule.direction === 'docker' && !host.docker.enabled)
    at('direction', 'direction: docker needs docker: { enabled: true } in gen-fw.yaml');
  if (rule.direction === 'docker' && rule.destination) {
    // Docker has rewritten the destination to the container's address by the time DOCKER-USER sees it.
    at(
      'destination',
      'a docker rule cannot match the destination: Docker has already rewritten it to the container; match the published port (dport) instead',
    );
  }
  checkDockerRule(rule, host, file, path, problems);
  checkNotrack(rule, at);
}

function checkHost(host: HostConfig, file: ParsedFile, problems: Problem[]): void {
  checkAddresses(host.deny.source, host, file, ['deny', 'source'], problems);
  // The default SSH source includes ::/0, which ipv6: false simply leaves out: not the user's to fix.
  if (host.ssh && givenIn(file, ['ssh', 'source'])) checkAddresses(host.ssh.source, host, file, ['ssh', 'source'], problems);
  if (typeof host.dns === 'object') checkAddresses(host.dns, host, file, ['dns'], problems);
  if (typeof host.ntp === 'object') checkAddresses(host.ntp, host, file, ['ntp'], problems);
  for (const [key, spec] of [
    ['dns', host.dns],
    ['ntp', host.ntp],
  ] as const) {
    if (typeof spec === 'object' && spec.sets.length) problems.push(problemAt(file, [key], 'takes addresses, not sets'));
  }
}

/** Whether the file itself sets a key (rather than a default filling it in). */
function givenIn(file: ParsedFile, path: readonly string[]): boolean {
  let value: unknown = file.data;
  for (const key of path) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, key)) return false;
    value = (value as Record<string, unknown>)[key];
  }
  return true;
}

function checkPolicies(host: HostConfig, file: ParsedFile | undefined, problems: Problem[], warnings: Problem[]): void {
  const where = (key: string, message: string): Problem =>
    file ? problemAt(file, [key], message) : { file: '(built-in defaults)', key, message };
  if (host.conntrack.established === false && (host.policy.input === 'drop' || host.policy.output === 'drop') && !host.allow_no_ssh) {
    problems.push(
      where(
        'conntrack',
        "established: false with a drop policy drops the replies of every connection, SSH's included: this image would lock you out (keep established: accept, or set allow_no_ssh: true and write the return rules yourself)",
      ),
    );
  }
  if (host.policy.output === 'drop') {
    if (host.metadata === 'block') {
      warnings.push(
        where(
          'metadata',
          'metadata: block with an output drop policy: cloud-init cannot fetch SSH keys or user data from 169.254.169.254, so a new instance may be unreachable',
        ),
      );
    }
    if (!host.dhcp) {
      warnings.push(
        where(
          'dhcp',
          'dhcp: false with an output drop policy: the DHCP client cannot renew its lease, and the instance loses its address when the lease ends',
        ),
      );
    }
    if (host.dns === false) {
      warnings.push(where('dns', 'dns: false with an output drop policy: name resolution will fail unless a service opens port 53'));
    }
  }
}
