import { beforeAll, expect, it } from 'vitest';
import { NOBODY } from '../helpers/any-user.js';
import { describeFirewall } from '../helpers/firewall.js';
import type { Bench } from '../helpers/netns.js';

describeFirewall('SSH rate limit, logging of drops, and the metadata service', {}, (ctx) => {
  let bench: Bench;

  beforeAll(async () => {
    bench = ctx.bench();
    await bench.serve(bench.host, ['tcp:22']);
    // The metadata address, inside the peer namespace, reached through the veth.
    await bench.sh(bench.peer, 'ip addr add 169.254.169.254/32 dev lo');
    await bench.sh(bench.host, `ip route add 169.254.169.254/32 via ${bench.peerV4}`);
    await bench.serve(bench.peer, ['tcp:80', 'udp:67']);
  });

  it('admits four quick SSH connections from one source, filters the fifth, and lets another source in', async () => {
    const verdicts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [v] = await bench.check(bench.peer, [{ proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4 }]);
      verdicts.push(v!);
    }
    expect(verdicts).toEqual(['open', 'open', 'open', 'open', 'filtered']);
    const other = await bench.check(bench.peer, [{ proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4b }]);
    expect(other).toEqual(['open']);
  });

  it('logs a dropped packet: the LOG rule counts it', async () => {
    const logCount = async () => {
      const r = await bench.exec(bench.host, 'iptables', ['-w', '-nvxL', 'GFW-DROP']);
      const line = r.stdout.split('\n').find((l) => l.includes('LOG'))!;
      return Number(line.trim().split(/\s+/)[0]);
    };
    const before = await logCount();
    expect(await bench.check(bench.peer, [{ proto: 'tcp', host: bench.hostV4, port: 8080, timeout: 500 }])).toEqual(['filtered']);
    expect(await logCount()).toBeGreaterThan(before);
  });

  it('lets root reach the metadata service and filters everyone else', async () => {
    const target = { proto: 'tcp' as const, host: '169.254.169.254', port: 80 };
    expect(await bench.check(bench.host, [target])).toEqual(['open']);
    expect(await bench.check(bench.host, [target], NOBODY)).toEqual(['filtered']);
  });

  it('lets the DHCP client renew its lease under the OUTPUT drop policy (68 -> 67), and nothing else to port 67', async () => {
    const v = await bench.check(bench.host, [
      { proto: 'udp', host: bench.peerV4, port: 67, sourcePort: 68 },
      { proto: 'udp', host: bench.peerV4, port: 67 },
    ]);
    expect(v).toEqual(['open', 'filtered']);
  });
});
