import { expect, it } from 'vitest';
import { describeFirewall } from '../helpers/firewall.js';

describeFirewall(
  'a web service: one port open to all, one open to a CIDR',
  {
    services: () => ({
      'web.yaml': `rules:
  - { direction: in, proto: tcp, dport: 80 }
  - { direction: in, proto: tcp, dport: 9100, source: [192.0.2.0/28, "2001:db8::/120"] }
`,
    }),
  },
  ({ bench }) => {
    it('admits the open port from anywhere and the restricted one only from inside the CIDR', async () => {
      const b = bench();
      await b.serve(b.host, ['tcp:80', 'tcp:9100', 'tcp:8080']);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: 80, source: b.peerV4b },
        { proto: 'tcp', host: b.hostV4, port: 9100, source: b.peerV4 }, // 192.0.2.2: inside /28
        { proto: 'tcp', host: b.hostV4, port: 9100, source: b.peerV4b }, // 192.0.2.100: outside
        { proto: 'tcp', host: b.hostV6, port: 9100, source: b.peerV6 },
        { proto: 'tcp', host: b.hostV6, port: 9100, source: b.peerV6b },
        { proto: 'tcp', host: b.hostV4, port: 8080, source: b.peerV4 },
      ]);
      expect(v).toEqual(['open', 'open', 'filtered', 'open', 'filtered', 'filtered']);
    });
  },
);

describeFirewall(
  'final: reject',
  {
    host: 'final: reject\n',
    services: () => ({ 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' }),
  },
  ({ bench }) => {
    it('refuses a closed port instead of leaving it filtered', async () => {
      const b = bench();
      await b.serve(b.host, ['tcp:80', 'tcp:8080']);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: 80 },
        { proto: 'tcp', host: b.hostV4, port: 8080 },
        { proto: 'tcp', host: b.hostV6, port: 8080 },
        { proto: 'udp', host: b.hostV4, port: 5353 },
      ]);
      expect(v).toEqual(['open', 'refused', 'refused', 'refused']);
    });
  },
);

describeFirewall(
  'a database that admits two source addresses',
  {
    services: () => ({
      'postgres.yaml': `description: PostgreSQL for two app servers
rules:
  - direction: in
    proto: tcp
    dport: 5432
    source: [192.0.2.2, "2001:db8::2"]
`,
    }),
  },
  ({ bench }) => {
    it('admits those two and nobody else', async () => {
      const b = bench();
      await b.serve(b.host, ['tcp:5432']);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV4, port: 5432, source: b.peerV4 },
        { proto: 'tcp', host: b.hostV6, port: 5432, source: b.peerV6 },
        { proto: 'tcp', host: b.hostV4, port: 5432, source: b.peerV4b },
        { proto: 'tcp', host: b.hostV6, port: 5432, source: b.peerV6b },
        { proto: 'tcp', host: b.hostV4, port: 5432, source: '198.51.100.2' },
      ]);
      expect(v).toEqual(['open', 'open', 'filtered', 'filtered', 'filtered']);
    });
  },
);

describeFirewall(
  'an outbound service bound to an interface (the Tao of Ops etcd example)',
  {
    services: (b) => ({
      'etcd.yaml': `description: etcd client traffic to the cluster network
rules:
  - { direction: out, proto: tcp, dport: 4001, interface: ${b.hostIf}, comment: etcd client }
  - { direction: out, proto: tcp, dport: 4002, interface: eth2, comment: same port on another interface }
`,
    }),
  },
  ({ bench }) => {
    it('lets the port out through that interface only', async () => {
      const b = bench();
      await b.serve(b.peer, ['tcp:4001', 'tcp:4002', 'tcp:4003']);
      const v = await b.check(b.host, [
        { proto: 'tcp', host: b.peerV4, port: 4001 },
        { proto: 'tcp', host: b.peerV6, port: 4001 },
        { proto: 'tcp', host: b.peerV4, port: 4002 },
        { proto: 'tcp', host: b.peerV4, port: 4003 },
      ]);
      expect(v).toEqual(['open', 'open', 'filtered', 'filtered']);
    });
  },
);

describeFirewall(
  'a rule with only IPv6 addresses',
  {
    services: () => ({
      'v6only.yaml': `rules:
  - { direction: in, proto: tcp, dport: 7000, source: ["2001:db8::/64"], comment: six only }
`,
    }),
  },
  ({ bench }) => {
    it('lands in ip6tables only', async () => {
      const b = bench();
      expect(await b.iptablesSave(4)).not.toContain('six only');
      expect(await b.iptablesSave(6)).toContain('v6only: six only');
      await b.serve(b.host, ['tcp:7000']);
      const v = await b.check(b.peer, [
        { proto: 'tcp', host: b.hostV6, port: 7000 },
        { proto: 'tcp', host: b.hostV4, port: 7000 },
      ]);
      expect(v).toEqual(['open', 'filtered']);
    });
  },
);
