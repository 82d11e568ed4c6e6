// 2. Packet path: a realistic host (services, a deny list from a big set) in one namespace,
//    a client in another, joined by a veth (192.0.2.1 host, 192.0.2.2 client). TCP
//    throughput (iperf3, client -> host) and new connections per second (a Node
//    connect/read/close loop) against the same host with no firewall and with the same
//    policy written naively, and with the benchmark ports notrack (issue 17: the same
//    gen-fw host, the bench service's rule with `notrack: true`). The variants run
//    interleaved, one repetition each in turn. Diagnostic variants (full runs only, no
//    target) mark the floors: a second no-firewall pair (how far two identical namespace
//    pairs differ), the filter hooks alone, conntrack alone, and the smallest notrack
//    ruleset there can be with conntrack active in the namespace.
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dryRunPayloads, renderBundle } from './lib/bundle.mjs';
import { naivePayloads, benchAddr, writeBlocklist, writeHostConfig, writeServicesConfD } from './lib/gen.mjs';
import { fmtInt, has, inNs, interleave, NODE, netnsAdd, netnsDel, ROOT, stats, tempDir } from './lib/util.mjs';

const CONN = join(ROOT, 'bench/lib/conn.mjs');
const CTONLY = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -j ACCEPT',
  '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A OUTPUT -j ACCEPT',
  'COMMIT',
  '',
].join('\n');
/** The filter hooks alone: INPUT and OUTPUT each accept everything, no conntrack anywhere. */
const HOOKS = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -j ACCEPT',
  '-A OUTPUT -j ACCEPT',
  'COMMIT',
  '',
].join('\n');
/**
 * The notrack floor: the least any notrack design can do on this kernel with iptables.
 * The bench ports skip conntrack first thing in raw and are accepted by the first filter
 * rule; one tracked rule behind them keeps conntrack (and defrag) hooked in the
 * namespace, as on any host where some other service is tracked.
 */
const FLOOR = [
  '*raw',
  ':PREROUTING ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A PREROUTING -p tcp -m multiport --dports 5201,8080 -j CT --notrack',
  '-A OUTPUT -p tcp -m multiport --sports 5201,8080 -j CT --notrack',
  'COMMIT',
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -p tcp -m multiport --dports 5201,8080 -j ACCEPT',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A OUTPUT -p tcp -m multiport --sports 5201,8080 -j ACCEPT',
  'COMMIT',
  '',
].join('\n');
const BENCH_SERVICE = {
  name: 'zz-bench',
  yaml: [
    'description: benchmark traffic (iperf3 and the connection-rate server); sorts last',
    'rules:',
    '  - direction: in',
    '    proto: tcp',
    '    dport: [5201, 8080]',
    '    source: 192.0.2.0/24',
    '',
  ].join('\n'),
};

/** The same service, stateless: its ports skip conntrack (raw table) and are accepted by port. */
const BENCH_SERVICE_NOTRACK = {
  name: BENCH_SERVICE.name,
  yaml: BENCH_SERVICE.yaml.replace('    source: 192.0.2.0/24\n', '    source: 192.0.2.0/24\n    notrack: true\n'),
};
/** Namespace tags, two letters each, one per variant. */
const TAG = { none: 'no', control: 'aa', hooks: 'hk', ctonly: 'ct', floor: 'fl', genfw: 'ge', notrack: 'nt', naive: 'na' };
/** Rulesets restored as they are (the diagnostic variants), by variant. */
const RESTORE = { hooks: HOOKS, ctonly: CTONLY, floor: FLOOR };

async function pair(tag) {
  const host = await netnsAdd(`${tag}h`);
  const client = await netnsAdd(`${tag}c`);
  const a = `gfb${tag}a`;
  const b = `gfb${tag}b`;
  await execa('ip', ['-n', host, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', client]);
  await execa('ip', ['-n', host, 'addr', 'add', '192.0.2.1/24', 'dev', a]);
  await execa('ip', ['-n', client, 'addr', 'add', '192.0.2.2/24', 'dev', b]);
  await execa('ip', ['-n', host, 'link', 'set', a, 'up']);
  await execa('ip', ['-n', client, 'link', 'set', b, 'up']);
  return { host, client };
}

async function waitReady(proc) {
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start')), 10000);
    proc.stdout.on('data', (d) => {
      if (/ready|Server listening/.test(String(d))) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.catch?.(() => {});
  });
}

export async function benchPacket({ quick, reps, log }) {
  if (!(await has('iperf3')))
    return [{ group: '2', what: 'packet path', subject: { label: 'not available: iperf3 is not installed (apt-get install iperf3)' } }];
  const services = quick ? 20 : 200;
  const blocklist = quick ? 1000 : 50000;
  const naiveCap = Math.min(blocklist, 10000);
  const secs = quick ? 1 : 4;
  const n = quick ? 1 : reps;

  const dir = tempDir('packet');
  writeServicesConfD(join(dir, 'conf.d'), services, BENCH_SERVICE);
  mkdirSync(join(dir, 'lists'));
  writeBlocklist(join(dir, 'lists/blocklist.txt'), blocklist);
  writeHostConfig(join(dir, 'gen-fw.yaml'), 'lists/blocklist.txt');
  const { init } = await renderBundle(dir);
  // The notrack host: the same project but for the bench service's notrack: true.
  const ntDir = tempDir('packet-notrack');
  writeServicesConfD(join(ntDir, 'conf.d'), services, BENCH_SERVICE_NOTRACK);
  mkdirSync(join(ntDir, 'lists'));
  writeBlocklist(join(ntDir, 'lists/blocklist.txt'), blocklist);
  writeHostConfig(join(ntDir, 'gen-fw.yaml'), 'lists/blocklist.txt');
  const { init: ntInit } = await renderBundle(ntDir);
  const naive = naivePayloads(
    await dryRunPayloads(init),
    Array.from({ length: naiveCap }, (_, i) => benchAddr(i)),
  );
  writeFileSync(join(dir, 'naive.v4'), naive[4]);
  writeFileSync(join(dir, 'naive.v6'), naive[6]);

  // ctonly: the smallest stateful firewall (ESTABLISHED accepted first, then everything):
  // what conntrack alone costs, so the rules' own share can be told apart. hooks and floor
  // (above) bound the notrack row from below; control is no firewall again, on its own pair.
  for (const [v, text] of Object.entries(RESTORE)) writeFileSync(join(dir, `${v}.v4`), text);
  const variants = quick
    ? ['none', 'genfw', 'notrack', 'naive']
    : ['none', 'control', 'hooks', 'ctonly', 'floor', 'genfw', 'notrack', 'naive'];
  const env = {};
  const servers = [];
  try {
    for (const v of variants) {
      const p = await pair(TAG[v]);
      if (v === 'genfw') await inNs(p.host, 'sh', [init]);
      if (v === 'notrack') await inNs(p.host, 'sh', [ntInit]);
      if (RESTORE[v]) await inNs(p.host, 'sh', ['-c', `iptables-restore < ${dir}/${v}.v4`]);
      if (v === 'naive') await inNs(p.host, 'sh', ['-c', `iptables-restore < ${dir}/naive.v4 && ip6tables-restore < ${dir}/naive.v6`]);
      const ip = servers.push(inNs(p.host, 'iperf3', ['-s', '-p', '5201', '--forceflush'], { reject: false, buffer: false }));
      await waitReady(servers[ip - 1]);
      const cs = servers.push(inNs(p.host, NODE, [CONN, 'serve', '8080'], { reject: false, buffer: false }));
      await waitReady(servers[cs - 1]);
      env[v] = p;
    }
    if (!quick) {
      const sets = await inNs(env.genfw.host, 'sh', ['-c', 'ipset list -t gfw-blocklist-v4 | grep "^Number of entries"']);
      log(`  packet: gen-fw host has ${sets.stdout.trim()} in gfw-blocklist-v4`);
    }

    const tput = await interleave(n, variants, async (v) => {
      const r = await inNs(env[v].client, 'iperf3', ['-c', '192.0.2.1', '-p', '5201', '-t', String(secs), '-J']);
      return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
    });
    const rate = await interleave(n, variants, async (v) => {
      const r = await inNs(env[v].client, NODE, [CONN, 'rate', '192.0.2.1', '8080', String(secs), '32']);
      const j = JSON.parse(r.stdout);
      if (j.conns === 0) throw new Error(`no connection got through (${v})`);
      return j.conns / j.seconds;
    });
    // What the connection-rate run left in each host's conntrack table for its port.
    const entries = {};
    for (const v of variants.filter((x) => ['genfw', 'notrack', 'floor'].includes(x))) {
      const r = await inNs(env[v].host, 'sh', ['-c', 'conntrack -L -p tcp --dport 8080 2>/dev/null | wc -l']);
      entries[v] = Number(r.stdout.trim());
    }
    log(
      `  packet: conntrack entries for :8080 after the connection-rate run: tracked ${entries.genfw}, notrack ${entries.notrack}` +
        (entries.floor === undefined ? '' : `, notrack floor ${entries.floor}`),
    );
    // The rules did see the traffic: the gen-fw host's service rule (in its service chain) counted packets.
    const counted = await inNs(env.genfw.host, 'sh', [
      '-c',
      'iptables -L GFW-I-zz-bench -v -n -x | grep -E "dports? .*5201" | awk "{print \\$1}"',
    ]);
    log(`  packet: the zz-bench rule accepted ${counted.stdout.trim() || '?'} packets (new connections)`);
    for (const v of variants) log(`  packet ${v}: ${stats(tput[v]).median.toFixed(2)} Gbit/s, ${Math.round(stats(rate[v]).median)} conn/s`);

    const size = `${services} services + ${fmtInt(blocklist)}-address deny set`;
    const naiveSize = `${size}; naive: ${fmtInt(naiveCap)} deny rules, conntrack last`;
    const measures = [
      {
        what: 'TCP throughput (iperf3, 1 stream)',
        short: 'TCP throughput',
        data: tput,
        unit: 'Gbit/s',
        min: 0.95,
        text: '≥ 0.95 (≤ 5 % cost)',
      },
      {
        what: 'new connections/s (32 parallel)',
        short: 'new connections/s',
        data: rate,
        unit: 'conn/s',
        min: 0.9,
        text: '≥ 0.90 (≤ 10 % cost)',
      },
    ];
    // One row per measure and firewall variant, each against no firewall.
    const row = (m, variant, what, rowSize, label, target) => ({
      group: '2',
      what,
      size: rowSize,
      subject: { label, stats: stats(m.data[variant]), unit: m.unit },
      baseline: { label: 'no firewall', stats: stats(m.data.none), unit: m.unit },
      ratio: { kind: 'fraction' },
      target,
    });
    const rows = [];
    // The diagnostic rows, where measured: what no rule at all, the hooks and conntrack cost.
    const diagnostics = [
      ['control', 'no firewall again (control, diagnostic)', 'a second namespace pair, no rules', 'no firewall, second pair'],
      ['hooks', 'hooks only (diagnostic)', 'filter INPUT/OUTPUT -j ACCEPT, 2 rules, no conntrack', 'hooks-only ruleset'],
      ['ctonly', 'conntrack only (diagnostic)', 'ESTABLISHED accept + accept all, 4 rules', 'conntrack-only ruleset'],
    ].filter(([v]) => variants.includes(v));
    for (const m of measures) {
      for (const [v, what, rowSize, label] of diagnostics) rows.push(row(m, v, `${m.short}, ${what}`, rowSize, label));
    }
    const notrackMin = { 'TCP throughput': 0.98, 'new connections/s': 0.97 };
    for (const m of measures) {
      rows.push(row(m, 'genfw', m.what, size, 'gen-fw ruleset', { text: m.text, ok: (r) => r >= m.min }));
      // Issue 17: the same port, notrack: true, beside the tracked row above.
      const min = notrackMin[m.short];
      rows.push(
        row(m, 'notrack', `${m.short}, the bench port notrack`, size, 'gen-fw, notrack: true', {
          text: `≥ ${min.toFixed(2)}`,
          ok: (r) => r >= min,
        }),
      );
      if (variants.includes('floor')) {
        rows.push(
          row(
            m,
            'floor',
            `${m.short}, notrack floor (diagnostic)`,
            'raw notrack + port accept first, 1 ESTABLISHED rule, 5 rules',
            'notrack floor ruleset',
          ),
        );
      }
      rows.push(row(m, 'naive', `${m.short}, naive policy`, naiveSize, 'naive ruleset'));
    }
    rows.push({
      group: '2',
      what: 'conntrack entries for the port after the connection-rate run',
      size,
      subject: { label: `notrack: ${fmtInt(entries.notrack)} (tracked: ${fmtInt(entries.genfw)})` },
      target: { text: '0 for the notrack port', ok: () => entries.notrack === 0 },
    });
    return rows;
  } finally {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.allSettled(servers);
    for (const p of Object.values(env)) {
      await netnsDel(p.client);
      await netnsDel(p.host);
    }
  }
}
