// Probe: the bench's notrack host, a few connections, then the rule counters.
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderBundle } from './lib/bundle.mjs';
import { writeBlocklist, writeHostConfig, writeServicesConfD } from './lib/gen.mjs';
import { inNs, netnsAdd, netnsDel, NODE, tempDir, cleanupOnSignals } from './lib/util.mjs';
cleanupOnSignals();
const yaml = ['description: bench','rules:','  - direction: in','    proto: tcp','    dport: [5201, 8080]','    source: 192.0.2.0/24','    notrack: true',''].join('\n');
const dir = tempDir('probe');
writeServicesConfD(join(dir, 'conf.d'), 200, { name: 'zz-bench', yaml });
mkdirSync(join(dir, 'lists'));
writeBlocklist(join(dir, 'lists/blocklist.txt'), 50000);
writeHostConfig(join(dir, 'gen-fw.yaml'), 'lists/blocklist.txt');
const { init } = await renderBundle(dir);
console.log('init', init);
const host = await netnsAdd('prh'); const client = await netnsAdd('prc');
try {
  await execa('ip', ['-n', host, 'link', 'add', 'gfbpra', 'type', 'veth', 'peer', 'name', 'gfbprb', 'netns', client]);
  await execa('ip', ['-n', host, 'addr', 'add', '192.0.2.1/24', 'dev', 'gfbpra']);
  await execa('ip', ['-n', client, 'addr', 'add', '192.0.2.2/24', 'dev', 'gfbprb']);
  await execa('ip', ['-n', host, 'link', 'set', 'gfbpra', 'up']);
  await execa('ip', ['-n', client, 'link', 'set', 'gfbprb', 'up']);
  await inNs(host, 'sh', [init]);
  await inNs(host, 'sh', ['-c', 'iptables -Z; iptables -t raw -Z']);
  const srv = inNs(host, NODE, ['bench/lib/conn.mjs', 'serve', '8080'], { reject: false, buffer: false });
  await new Promise((r, j) => { srv.stdout.on('data', (d) => /ready/.test(String(d)) && r()); srv.then((x) => j(new Error('server exited ' + x.exitCode + x.stderr))); setTimeout(() => j(new Error('timeout')), 10000); });
  const r = await inNs(client, NODE, ['bench/lib/conn.mjs', 'rate', '192.0.2.1', '8080', '1', '4']);
  console.log(r.stdout);
  const dump = await inNs(host, 'sh', ['-c', 'iptables-save -c -t raw; iptables-save -c -t filter | grep -v "^\\[0:0\\] -A GFW-I-\\(s\\|T\\|U\\)" ']);
  console.log(dump.stdout);
  srv.kill('SIGTERM'); await srv.catch(() => {});
} finally { await netnsDel(client); await netnsDel(host); }
