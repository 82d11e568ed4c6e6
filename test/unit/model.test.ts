import { describe, expect, it } from 'vitest';
import { SetRegistry, compileRule, ruleFamilies, type RuleSpec } from '../../src/model/compile-rule.js';
import { parseAddressSpec, parsePort, parseAddress, ValueError } from '../../src/validate/values.js';
import { shellQuote } from '../../src/render/shell-quote.js';
import { withImpliedSettings } from '../../src/load/load-config.js';
import { hostSchema } from '../../src/validate/schema.js';
import { mustCheck } from '../../src/validate/spec.js';

const spec = (over: Partial<RuleSpec>): RuleSpec => ({ chain: 'C', proto: 'tcp', target: ['-j', 'ACCEPT'], comment: 't', ...over });

describe('address families follow the addresses', () => {
  it('sends a rule with no address to both families, or IPv4 only without ipv6', () => {
    expect(ruleFamilies(spec({}), true)).toEqual([4, 6]);
    expect(ruleFamilies(spec({}), false)).toEqual([4]);
  });
  it('splits a mixed list and keeps each address in its own family', () => {
    const rules = compileRule(spec({ source: parseAddressSpec(['192.0.2.1', '2001:db8::1']) }), [4, 6], new SetRegistry(new Map()));
    expect(rules.map((r) => [r.family, r.args[1]])).toEqual([
      [4, '192.0.2.1'],
      [6, '2001:db8::1'],
    ]);
  });
  it('puts IPv6-only rules in ip6tables only, and narrows icmp to IPv4', () => {
    expect(ruleFamilies(spec({ destination: parseAddressSpec('2001:db8::/64') }), true)).toEqual([6]);
    expect(ruleFamilies(spec({ proto: 'icmp' }), true)).toEqual([4]);
  });
  it('matches more than 16 addresses through one set, never rule by rule', () => {
    const many = Array.from({ length: 17 }, (_, i) => `198.51.100.${i + 1}`);
    const sets = new SetRegistry(new Map());
    const rules = compileRule(spec({ source: parseAddressSpec(many) }), [4], sets);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.args.join(' ')).toMatch(/-m set --match-set gfw-auto-[0-9a-f]{10}-v4 src/);
    expect([...sets.sets.values()][0]!.members).toHaveLength(17);
  });
  it('splits multiport lists at 15 slots (a range counts two)', () => {
    const ports = [...Array.from({ length: 14 }, (_, i) => ({ from: 1000 + i, to: 1000 + i })), { from: 2000, to: 2010 }];
    const rules = compileRule(spec({ dport: ports }), [4], new SetRegistry(new Map()));
    expect(rules).toHaveLength(2);
  });
});

describe('values', () => {
  it('parses ports and ranges, and refuses the rest with a reason', () => {
    expect(parsePort(80)).toEqual({ from: 80, to: 80 });
    expect(parsePort('2379:2380')).toEqual({ from: 2379, to: 2380 });
    expect(() => parsePort(70000)).toThrow(/not a port/);
    expect(() => parsePort('90:80')).toThrow(/backwards/);
  });
  it('refuses a CIDR with host bits, suggesting both readings', () => {
    expect(() => parseAddress('10.0.0.1/8')).toThrow(ValueError);
    expect(() => parseAddress('10.0.0.1/8')).toThrow(/10\.0\.0\.0\/8 or 10\.0\.0\.1\/32/);
    expect(parseAddress('10.0.0.0/8').text).toBe('10.0.0.0/8');
    expect(parseAddress('2001:DB8::1').text).toBe('2001:db8::1');
  });
});

describe('shell quoting', () => {
  it('passes safe words and single-quotes everything else', () => {
    expect(shellQuote('GFW-INPUT')).toBe('GFW-INPUT');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a $(x) `y` \\ "q"')).toBe('"a \\$(x) \\`y\\` \\\\ \\"q\\""');
    expect(shellQuote('')).toBe("''");
  });
});

describe('implied settings', () => {
  it("always leaves Kubernetes' and Docker's chains out of the saved state when they are enabled", () => {
    const host = mustCheck(hostSchema, {
      kubernetes: { enabled: true },
      docker: { enabled: true },
      drift_check: { ignore_chains: ['f2b-*'] },
    });
    const c = withImpliedSettings({ host, services: [] });
    expect(c.host.drift_check.ignore_chains).toEqual(['f2b-*', 'DOCKER*', 'KUBE-*', 'CNI-*', 'cali-*']);
  });
});

describe('notrack rules', () => {
  it('mark the requests and the mirrored replies untracked in raw, accept the requests in the service chain and the replies by source port', async () => {
    const { compileService } = await import('../../src/model/compile-service.js');
    const host = mustCheck(hostSchema, { ipv6: false });
    const f = compileService(
      {
        name: 'dns',
        file: 'conf.d/dns.yaml',
        sha256: '',
        rules: [
          {
            direction: 'in',
            proto: 'tcp',
            dport: [parsePort(53)],
            sport: [parsePort('1024:65535')],
            interface: 'eth1',
            source: parseAddressSpec('198.51.100.0/24'),
            destination: parseAddressSpec('192.0.2.1'),
            action: 'accept',
            log: false,
            audit: false,
            notrack: true,
          },
        ],
      },
      host,
      new SetRegistry(new Map()),
    );
    const lines = f.sections[0]!.rules.map((r) => `${r.table} ${r.chain} ${r.args.join(' ')}`);
    expect(lines).toEqual([
      'raw GFW-PREROUTING -i eth1 -s 198.51.100.0/24 -d 192.0.2.1 -p tcp --sport 1024:65535 --dport 53 -m comment --comment dns -j CT --notrack',
      'filter GFW-I-dns -i eth1 -s 198.51.100.0/24 -d 192.0.2.1 -p tcp --sport 1024:65535 --dport 53 -m comment --comment dns -j ACCEPT',
      'raw GFW-OUTPUT -o eth1 -s 192.0.2.1 -d 198.51.100.0/24 -p tcp --sport 53 --dport 1024:65535 -m comment --comment dns -j CT --notrack',
      'filter GFW-OUTPUT-UNTRACKED -o eth1 -s 192.0.2.1 -d 198.51.100.0/24 -p tcp --sport 53 --dport 1024:65535 ! --syn -m comment --comment dns -j ACCEPT',
    ]);
  });
});
