import { beforeAll, expect, it } from 'vitest';
import { describeFirewall } from '../helpers/firewall.js';
import type { Bench } from '../helpers/netns.js';

// No gen-fw.yaml and an empty conf.d: a cloud VM that boots and can be reached.
describeFirewall('the default policy, applied in a namespace', {}, (ctx) => {
  let bench: Bench;
  beforeAll(async () => {
    bench = ctx.bench();
    await bench.serve(bench.host, ['tcp:22', 'tcp:8080', 'udp:5353']);
    await bench.serve(bench.peer, ['udp:53', 'tcp:53', 'udp:123', 'tcp:80', 'udp:5353']);
  });

  it('sets DROP policies on INPUT, FORWARD and OUTPUT in both families', async () => {
    for (const family of [4, 6] as const) {
      const dump = await bench.iptablesSave(family);
      expect(dump).toMatch(/^:INPUT DROP/m);
      expect(dump).toMatch(/^:FORWARD DROP/m);
      expect(dump).toMatch(/^:OUTPUT DROP/m);
    }
  });

  it('lets SSH in over IPv4 and IPv6 and filters other inbound ports', async () => {
    const v = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 22 },
      { proto: 'tcp', host: bench.hostV6, port: 22 },
      { proto: 'tcp', host: bench.hostV4, port: 8080 },
      { proto: 'tcp', host: bench.hostV6, port: 8080 },
      { proto: 'udp', host: bench.hostV4, port: 5353 },
    ]);
    expect(v).toEqual(['open', 'open', 'filtered', 'filtered', 'filtered']);
  });

  it('lets DNS (udp and tcp) and NTP out, and filters other outbound traffic', async () => {
    const v = await bench.check(bench.host, [
      { proto: 'udp', host: bench.peerV4, port: 53 },
      { proto: 'tcp', host: bench.peerV4, port: 53 },
      { proto: 'udp', host: bench.peerV6, port: 53 },
      { proto: 'udp', host: bench.peerV4, port: 123 },
      { proto: 'udp', host: bench.peerV6, port: 123 },
      { proto: 'tcp', host: bench.peerV4, port: 80 },
      { proto: 'tcp', host: bench.peerV6, port: 80 },
      { proto: 'udp', host: bench.peerV4, port: 5353 },
    ]);
    expect(v).toEqual(['open', 'open', 'open', 'open', 'open', 'filtered', 'filtered', 'filtered']);
  });

  it('keeps IPv6 neighbour discovery working under the DROP policies', async () => {
    // A fresh neighbour entry needs NS/NA both ways; flush the caches and ping across.
    await bench.sh(bench.host, 'ip -6 neigh flush all');
    await bench.sh(bench.peer, 'ip -6 neigh flush all');
    const ping = await bench.exec(bench.peer, 'ping', ['-6', '-c', '1', '-W', '2', bench.hostV6], { reject: false });
    expect(ping.exitCode).toBe(0);
  });
});
