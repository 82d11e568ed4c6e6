#!/usr/bin/env node
// gen-fw benchmarks: what the firewall costs at boot (apply), on every packet, in the drift
// check, and at image-build time (render), each against its baseline in the same run.
//
//   npm run bench                      full run (N = 5 repetitions; several minutes)
//   npm run bench -- --quick           smoke mode: every measurement once, small sizes
//   npm run bench -- --runs 7 --only apply,render --no-legacy --json out.json
//   npm run bench -- --only render --against ../gen-fw-main   render against another build too
//
// Needs root for 1–3 (network namespaces; the root namespace's firewall is never
// touched); render runs without. Exit 0 whatever the targets say (benchmarks are not
// tests), 1 if a measurement failed to run, 2 on bad options.
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchApply } from './apply.mjs';
import { benchDrift } from './drift.mjs';
import { benchPacket } from './packet.mjs';
import { benchRender } from './render.mjs';
import { renderTable, ratioOf, verdict } from './lib/table.mjs';
import { CLI, cleanup, cleanupOnSignals } from './lib/util.mjs';

const argv = process.argv.slice(2);
const opts = { quick: false, runs: 5, only: ['apply', 'packet', 'drift', 'render'], legacy: true, json: undefined, against: undefined };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opts.quick = true;
  else if (a === '--runs') opts.runs = Number(argv[++i]);
  else if (a === '--only') opts.only = String(argv[++i]).split(',');
  else if (a === '--no-legacy') opts.legacy = false;
  else if (a === '--json') opts.json = argv[++i];
  else if (a === '--against') opts.against = argv[++i] === undefined ? '' : resolve(argv[i]);
  else if (a === '-h' || a === '--help') {
    console.log(
      readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .slice(1, 13)
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n'),
    );
    process.exit(0);
  } else {
    console.error(`bench: unknown option ${a} (see --help)`);
    process.exit(2);
  }
}
if (!(opts.runs >= 1) || opts.only.some((m) => !['apply', 'packet', 'drift', 'render'].includes(m))) {
  console.error('bench: --runs takes a number ≥ 1, --only a list of apply,packet,drift,render');
  process.exit(2);
}
// --against: another checkout of gen-fw, built; its CLI renders the same cases in the same rounds.
if (opts.against === '' || (opts.against !== undefined && !opts.only.includes('render'))) {
  console.error('bench: --against takes the directory of another gen-fw build, and compares renders (--only must include render)');
  process.exit(2);
}
const againstCli =
  opts.against && [join(opts.against, 'dist/bin/gen-fw.js'), join(opts.against, 'dist/cli/main.js')].find((p) => existsSync(p));
if (opts.against && !againstCli) {
  console.error(`bench: --against ${opts.against}: no dist/bin/gen-fw.js or dist/cli/main.js there (build it first)`);
  process.exit(2);
}
if (!existsSync(CLI)) {
  console.error('bench: dist/bin/gen-fw.js is missing: run `npm run build` (npm run bench does)');
  process.exit(2);
}

const root = process.getuid?.() === 0;
const log = (m) => console.error(m);
const started = performance.now();
const load0 = loadavg();
cleanupOnSignals();

async function version(cmd, args) {
  const r = await execa(cmd, args, { reject: false });
  return r.exitCode === 0 ? r.stdout.split('\n')[0].trim() : 'not installed';
}

const legacyOk = opts.legacy && existsSync('/usr/sbin/iptables-legacy');
const ctx = { quick: opts.quick, reps: opts.runs, log, root, backends: legacyOk ? ['nft', 'legacy'] : ['nft'], against: againstCli };
const rows = [];
const loads = [];
let failed = false;
const steps = { apply: benchApply, packet: benchPacket, drift: benchDrift, render: benchRender };
const titles = { apply: '1 apply', packet: '2 packet path', drift: '3 drift check', render: '4 render' };
try {
  for (const m of ['apply', 'packet', 'drift', 'render']) {
    if (!opts.only.includes(m)) continue;
    if (m !== 'render' && !root) {
      rows.push({ group: titles[m][0], what: titles[m].slice(2), subject: { label: 'skipped: needs root (network namespaces)' } });
      continue;
    }
    const t = performance.now();
    const l0 = loadavg()[0];
    log(`bench: ${titles[m]} ...`);
    try {
      rows.push(...(await steps[m](ctx)));
    } catch (e) {
      failed = true;
      log(`bench: ${titles[m]} failed: ${e.stack ?? e}`);
      rows.push({
        group: titles[m][0],
        what: titles[m].slice(2),
        error: String(e.message ?? e)
          .split('\n')[0]
          .slice(0, 160),
      });
    }
    const took = (performance.now() - t) / 1000;
    loads.push(`${titles[m]}: ${took.toFixed(0)} s, load ${l0.toFixed(1)}→${loadavg()[0].toFixed(1)}`);
    log(`bench: ${titles[m]} took ${took.toFixed(1)} s`);
  }
} finally {
  await cleanup();
}

const [kernel, ipt, ferm, iperf] = await Promise.all([
  version('uname', ['-r']),
  version('iptables', ['--version']),
  version('ferm', ['--version']),
  version('iperf3', ['--version']),
]);
const total = (performance.now() - started) / 1000;
const load1 = loadavg();
console.log(`gen-fw benchmarks${opts.quick ? ' — QUICK (smoke) mode: one run each, small sizes; no verdicts' : ''}`);
console.log(
  `${new Date().toISOString()} · ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}) · kernel ${kernel} · node ${process.version} · ${ipt} · ${ferm} · ${iperf}`,
);
console.log(
  `medians of ${opts.quick ? 1 : opts.runs} runs [min–max]; ratio = gen-fw / baseline unless it says "faster"; load average ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end; took ${total.toFixed(0)} s\n`,
);
console.log(renderTable(rows, { quick: opts.quick }));
console.log(`\ntime and 1-minute load average per part (other work on the machine inflates and scatters the figures): ${loads.join('; ')}`);
if (!opts.quick) {
  const v = rows.map((r) => verdict(r, false)).filter(Boolean);
  console.log(
    `\ntargets: ${v.filter((x) => x === 'PASS').length} PASS, ${v.filter((x) => x === 'MISS').length} MISS${v.some((x) => x !== 'PASS' && x !== 'MISS') ? `, ${v.filter((x) => x !== 'PASS' && x !== 'MISS').length} other` : ''}`,
  );
}
if (opts.json) {
  const plain = rows.map((r) => ({ ...r, target: r.target?.text, verdict: verdict(r, opts.quick), ratio: ratioOf(r) }));
  writeFileSync(
    opts.json,
    JSON.stringify(
      { quick: opts.quick, runs: opts.runs, kernel, iptables: ipt, ferm, node: process.version, seconds: total, rows: plain },
      null,
      2,
    ) + '\n',
  );
}
process.exit(failed ? 1 : 0);
