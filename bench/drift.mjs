// 3. Drift check: on a host (a namespace of our own) with N rules applied by iptables-init
//    --save, time the bundle's iptables-check (as cron runs it: --quiet, metrics written to
//    a textfile dir) and `gen-fw check`, against a bare `iptables-save | diff` of both
//    families. In sync (the cron case), then with drift (rules added live).
//    bench/check-bench.mjs (the drift check's own benchmark, on dump files) is separate.
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderBundle } from './lib/bundle.mjs';
import { writeRulesConfD } from './lib/gen.mjs';
import { CLI, fmtInt, inNs, interleave, NODE, netnsAdd, netnsDel, ROOT, stats, tempDir } from './lib/util.mjs';

const FLOOR = join(ROOT, 'bench/lib/save-floor.mjs');

async function cliHasCheck() {
  const r = await execa(NODE, [CLI, 'check', '--help'], { reject: false });
  return r.exitCode === 0 && /saved/.test(r.stdout);
}

export async function benchDrift({ quick, reps, log }) {
  const rules = quick ? 1000 : 10000;
  const perService = 10;
  const dir = tempDir('drift');
  writeRulesConfD(join(dir, 'conf.d'), rules, perService);
  const { init, check } = await renderBundle(dir);
  const size = `${fmtInt(rules)} rules in ${fmtInt(rules / perService)} fragments`;
  const haveCli = await cliHasCheck();
  if (!check && !haveCli) {
    return [
      { group: '3', what: 'drift check', size, subject: { label: 'not available (no iptables-check in the bundle, no gen-fw check)' } },
    ];
  }
  const ns = await netnsAdd('drift');
  try {
    mkdirSync(`/etc/netns/${ns}/iptables`, { recursive: true });
    await inNs(ns, 'sh', [init, '--save']);
    const metrics = join(dir, 'textfile');
    mkdirSync(metrics);
    const subjects = {};
    if (check) subjects['iptables-check'] = ['sh', [check, '--quiet', '--textfile-dir', metrics]];
    if (haveCli) subjects['gen-fw check'] = [NODE, [CLI, 'check']];
    // Diagnostic: Node starting and reading both dumps, nothing else (the floor of gen-fw check).
    subjects['node floor'] = [NODE, [FLOOR]];
    const bare = [
      'sh',
      ['-c', 'iptables-save | diff /etc/iptables/rules.v4 - >/dev/null; ip6tables-save | diff /etc/iptables/rules.v6 - >/dev/null; true'],
    ];
    const all = { ...subjects, bare };
    const run = (expect) => async (k) => {
      const [cmd, args] = all[k];
      const t = performance.now();
      const r = await inNs(ns, cmd, args, { reject: false, maxBuffer: 1 << 30 });
      const s = (performance.now() - t) / 1000;
      if (k !== 'bare' && k !== 'node floor' && r.exitCode !== expect) {
        throw new Error(`${k} exited ${r.exitCode}, expected ${expect}: ${String(r.stderr || r.stdout).slice(0, 500)}`);
      }
      return s;
    };
    const n = quick ? 1 : reps;
    const insync = await interleave(n, Object.keys(all), run(0));
    // Drift: 10 rules added live (and a policy changed).
    await inNs(ns, 'sh', [
      '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10; do iptables -A GFW-INPUT-RULES -s 203.0.113.$i -j ACCEPT; done; iptables -P FORWARD ACCEPT',
    ]);
    const drift = await interleave(n, Object.keys(all), run(1));
    for (const k of Object.keys(all))
      log(`  drift ${k}: in sync ${stats(insync[k]).median.toFixed(3)} s, drift ${stats(drift[k]).median.toFixed(3)} s`);

    const rows = [];
    const baseline = (s) => ({ label: 'bare iptables-save | diff (v4+v6)', stats: stats(s), unit: 's' });
    for (const k of ['iptables-check', 'gen-fw check']) {
      if (!subjects[k]) {
        rows.push({ group: '3', what: `drift check, ${k}`, size, subject: { label: 'not available' } });
        continue;
      }
      rows.push({
        group: '3',
        what: `drift check, ${k}, in sync`,
        size,
        subject: { label: k, stats: stats(insync[k]), unit: 's' },
        baseline: baseline(insync.bare),
        ratio: { kind: 'slower' },
        target:
          rules >= 10000 || quick ? { text: '≤ 1.5× and < 1 s', ok: (r, row) => r <= 1.5 && row.subject.stats.median < 1 } : undefined,
      });
      rows.push({
        group: '3',
        what: `drift check, ${k}, drift (10 rules added, 1 policy)`,
        size,
        subject: { label: k, stats: stats(drift[k]), unit: 's' },
        baseline: baseline(drift.bare),
        ratio: { kind: 'slower' },
      });
    }
    rows.push({
      group: '3',
      what: 'drift check, the floor for Node (diagnostic: starts, reads both saves, compares nothing)',
      size,
      subject: { label: 'node + both saves', stats: stats(insync['node floor']), unit: 's' },
      baseline: baseline(insync.bare),
      ratio: { kind: 'slower' },
    });
    return rows;
  } finally {
    await netnsDel(ns);
  }
}
