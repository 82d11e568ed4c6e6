import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { parseYamlFile } from '../../src/parse/parse-yaml.js';
import { validateConfig, validateHost, validateService, type Service } from '../../src/validate/validate-config.js';
import { parseAddress } from '../../src/validate/values.js';

/** gen-fw.yaml text and service files → the guard's problems (after every other check). */
async function guard(hostYaml: string, serviceYamls: Record<string, string> = {}, denySetMembers: string[] = []): Promise<Problem[]> {
  const r = parseYamlFile('gen-fw.yaml', hostYaml);
  if (!r.ok) throw new Error('bad test yaml');
  const hostInput = { parsed: r.parsed, sha256: 'x' };
  const { host, problems } = await validateHost(hostInput);
  expect(problems).toEqual([]);
  const services: Service[] = [];
  for (const [name, text] of Object.entries(serviceYamls)) {
    const p = parseYamlFile(`conf.d/${name}.yaml`, text);
    if (!p.ok) throw new Error('bad test yaml');
    const v = await validateService({ name, parsed: p.parsed, sha256: 'x' }, host);
    expect(v.problems).toEqual([]);
    services.push(v.service!);
  }
  return validateConfig(host, hostInput, services, [], denySetMembers.map(parseAddress)).problems;
}

describe('the lock-out guard reasons about what reaches SSH from outside (issue 19.2)', () => {
  it.each([
    ['deny: { source: [0.0.0.0/0, "::/0"] }\n', 'deny.source'],
    ['ipv6: false\ndeny: { source: 0.0.0.0/0 }\n', 'deny.source'],
    ['deny: { source: [0.0.0.0/1, 128.0.0.0/1, "::/1", "8000::/1"] }\n', 'deny.source'],
    ['ssh: { source: 10.0.0.0/8 }\ndeny: { source: 10.0.0.0/8 }\n', 'deny.source'],
    ['ssh: { interface: lo }\n', 'ssh.interface'],
    ['ssh: { source: 127.0.0.1 }\n', 'ssh.source'],
    ['ssh: { source: [127.0.0.0/8, "::1", 169.254.0.0/16, "fe80::/10"] }\n', 'ssh.source'],
    ['ssh: false\n', 'ssh'],
  ])('refuses %j (at %s)', async (yaml, key) => {
    const problems = await guard(yaml);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(key);
    expect(problems[0]!.line).toBeGreaterThan(0);
    expect(problems[0]!.message).toContain('would lock you out');
  });

  it.each([
    'deny: { source: [0.0.0.0/0, "::/0"] }\nallow_no_ssh: true\n',
    'ssh: { interface: lo }\nallow_no_ssh: true\n',
    'ssh: { source: 127.0.0.1 }\npolicy: { input: accept }\n',
    'deny: { source: 0.0.0.0/0 }\n', // IPv6 still gets in
    'ssh: { source: 10.0.0.0/8 }\ndeny: { source: 10.1.0.0/16 }\n',
    'ssh: { source: [127.0.0.1, 192.0.2.0/24] }\n',
    'ssh: { interface: eth0 }\n',
    'ssh: { source: "@admins" }\nsets: { admins: { file: admins.txt } }\ndeny: { source: [0.0.0.0/0, "::/0"] }\n', // unknown members: not judged
    'deny: { source: "@bad" }\nsets: { bad: { file: bad.txt } }\n',
  ])('accepts %j', async (yaml) => {
    expect(await guard(yaml)).toEqual([]);
  });

  it("counts a deny set's members read from its file", async () => {
    const yaml = 'ipv6: false\ndeny: { source: "@bad" }\nsets: { bad: { file: bad.txt } }\n';
    expect(await guard(yaml, {}, ['192.0.2.0/24'])).toEqual([]);
    const problems = await guard(yaml, {}, ['0.0.0.0/1', '128.0.0.0/1']);
    expect(problems.map((p) => p.key)).toEqual(['deny.source']);
  });

  it('applies the same reasoning to a service that accepts tcp 22', async () => {
    const admin = (source: string) => ({ admin: `rules:\n  - { direction: in, proto: tcp, dport: 22, source: ${source} }\n` });
    expect(await guard('ssh: false\n', admin('203.0.113.0/24'))).toEqual([]);
    const local = await guard('ssh: false\n', admin('[127.0.0.1, "fe80::/10"]'));
    expect(local.map((p) => p.key)).toEqual(['ssh']);
    expect(local[0]!.message).toContain('conf.d/admin.yaml rules[0]: its sources are loopback or link-local only');
    const denied = await guard('ssh: false\ndeny: { source: 203.0.113.0/24 }\n', admin('203.0.113.0/25'));
    expect(denied[0]!.message).toContain('the deny list, which comes first, covers every source it accepts');
    expect(await guard('ssh: false\n', { admin: 'rules:\n  - { direction: in, proto: tcp, dport: 22, interface: lo }\n' })).toHaveLength(1);
  });
});
