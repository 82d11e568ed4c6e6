import { describe, expect, it } from 'vitest';
import { ExitError } from '../../src/errors.js';
import { planCheck, type HostFacts } from '../../src/check/plan-check.js';

const host = (over: Partial<HostFacts> = {}): HostFacts => ({ stateDir: '/etc/iptables', exists: () => false, hasIpv6: true, ...over });
const plan = (o: Parameters<typeof planCheck>[0], h = host()) => planCheck(o, h).specs;

describe('what gen-fw check compares', () => {
  it('checks both families against iptables-save by default', () => {
    expect(plan({ ignoreChain: [] })).toEqual([
      { ruleset: 'ipv4', saved: { file: '/etc/iptables/rules.v4' }, live: { command: 'iptables-save', args: ['-c'] } },
      { ruleset: 'ipv6', saved: { file: '/etc/iptables/rules.v6' }, live: { command: 'ip6tables-save', args: ['-c'] } },
    ]);
  });

  it('skips IPv6 when the kernel has none, and checks the ipsets when they were saved', () => {
    const specs = plan({ ignoreChain: [] }, host({ hasIpv6: false, exists: (p) => p === '/etc/iptables/ipsets' }));
    expect(specs.map((s) => s.ruleset)).toEqual(['ipv4', 'ipsets']);
    expect(specs[1]).toEqual({ ruleset: 'ipsets', saved: { file: '/etc/iptables/ipsets' }, live: { command: 'ipset', args: ['save'] } });
  });

  it('reads one family from files: IPv4 unless told otherwise', () => {
    expect(plan({ saved: 's', live: 'l', ignoreChain: [] })).toEqual([{ ruleset: 'ipv4', saved: { file: 's' }, live: { file: 'l' } }]);
    expect(plan({ live: 'l', family: 'ipv6', ignoreChain: [] })).toEqual([
      { ruleset: 'ipv6', saved: { file: '/etc/iptables/rules.v6' }, live: { file: 'l' } },
    ]);
  });

  it.each([
    [{ saved: 's', family: 'both', ignoreChain: [] }],
    [{ family: 'ipv5', ignoreChain: [] }],
    [{ ignoreChain: ['bad glob!'] }],
    [{ ignoreInterface: ['bad glob!'] }],
    [{ ignoreInterface: ['much-too-long-for-an-interface'] }],
  ])('refuses %j with exit code 2', (o) => {
    expect(() => plan(o)).toThrow(ExitError);
    try {
      plan(o);
    } catch (e) {
      expect((e as ExitError).exitCode).toBe(2);
    }
  });

  it('ignores the chains of Docker, Kubernetes, CNI, Calico and fail2ban unless told otherwise', () => {
    const { filter } = planCheck({ ignoreChain: [] }, host());
    for (const c of ['DOCKER', 'DOCKER-USER', 'KUBE-SERVICES', 'CNI-FORWARD', 'cali-FORWARD', 'f2b-sshd'])
      expect(filter.ignore.test(c)).toBe(true);
    expect(filter.ignore.test('GFW-INPUT')).toBe(false);
    const custom = planCheck({ ignoreChain: ['f2b-*'] }, host()).filter;
    expect(custom.ignore.test('DOCKER')).toBe(false);
    expect(custom.ignore.test('f2b-sshd')).toBe(true);
  });

  it("leaves out the rules on Docker's bridges (docker0, br-*) unless told other bridges", () => {
    const { filter } = planCheck({}, host());
    for (const i of ['docker0', 'br-4f2a1c9e7b3d']) expect(filter.ifaces.test(i)).toBe(true);
    for (const i of ['docker1', 'eth0', 'xbr-1']) expect(filter.ifaces.test(i)).toBe(false);
    const custom = planCheck({ ignoreInterface: ['lxcbr0', 'virbr+'] }, host()).filter;
    expect([custom.ifaces.test('lxcbr0'), custom.ifaces.test('virbr1'), custom.ifaces.test('docker0')]).toEqual([true, true, false]);
  });
});
