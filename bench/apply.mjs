// 1. Apply: iptables-init for rulesets of N rules, in fresh network namespaces, against
//    a bare iptables-restore of the same payload (the floor) and the same rules as a
//    sequential script (one iptables process per rule). Also a re-apply onto the live
//    ruleset, against a bare restore onto the live ruleset.
//    iptables-init loads a ruleset into a scratch namespace only the first time this
//    kernel sees it (/var/lib/gen-fw/validated): boot and every re-run apply a ruleset
//    validated before. Both are timed: "new ruleset" runs a copy of iptables-init with
//    one comment line added per run, which makes its validation key new every time.
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dryRunPayloads, renderBundle } from './lib/bundle.mjs';
import { countRules, sequentialScript, writeRulesConfD } from './lib/gen.mjs';
import { fmtInt, inNs, netnsAdd, netnsDel, stats, tempDir, timeOnce, useLegacyIn } from './lib/util.mjs';

async function freshNs(tag, backend) {
  const ns = await netnsAdd(tag);
  if (backend === 'legacy') await useLegacyIn(ns);
  return ns;
}

/** Rules in a namespace's live ruleset (both families). */
async function liveRules(ns) {
  const r = await inNs(ns, 'sh', ['-c', 'iptables-save; ip6tables-save'], { maxBuffer: 1 << 30 });
  return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
}

/** One case: a rendered bundle of `rules` rules in `perService`-rule fragments, timed on one backend. */
async function applyCase({ backend, rules, perService, reps, seqReps, log }) {
  const dir = tempDir(`apply-${rules}`);
  writeRulesConfD(join(dir, 'conf.d'), rules, perService);
  const { init } = await renderBundle(dir);
  const payloads = await dryRunPayloads(init, backend);
  // Once, so that "validated before" is true from the first timed run on.
  const warm = await freshNs('warm', backend);
  await inNs(warm, 'sh', [init]);
  await netnsDel(warm);
  const total = countRules(payloads[4]) + countRules(payloads[6]);
  mkdirSync(join(dir, 'p'));
  writeFileSync(join(dir, 'p/v4'), payloads[4]);
  writeFileSync(join(dir, 'p/v6'), payloads[6]);
  writeFileSync(join(dir, 'p/seq.sh'), sequentialScript(payloads));
  const bare = `iptables-restore < ${dir}/p/v4 && ip6tables-restore < ${dir}/p/v6`;

  const t = { init: [], fresh: [], reinit: [], bare: [], rebare: [], seq: [] };
  const newInit = `${init}.bench-new`;
  for (let i = 0; i < reps; i++) {
    copyFileSync(init, newInit);
    appendFileSync(newInit, `# benchmark run ${process.pid}-${Date.now()}-${i}: a ruleset this kernel has not validated\n`);
    const n = await freshNs('new', backend);
    t.fresh.push(await timeOnce(() => inNs(n, 'sh', [newInit])));
    if (i === 0) {
      const live = await liveRules(n);
      if (live !== total) throw new Error(`iptables-init loaded ${live} rules, the payload has ${total}`);
    }
    await netnsDel(n);

    const a = await freshNs('ap', backend);
    t.init.push(await timeOnce(() => inNs(a, 'sh', [init])));
    if (i === 0 && (await liveRules(a)) !== total) throw new Error('iptables-init (validated before) loaded a different ruleset');
    t.reinit.push(await timeOnce(() => inNs(a, 'sh', [init])));
    if (i === 0 && (await liveRules(a)) !== total) throw new Error('the re-apply changed the number of rules');
    await netnsDel(a);

    const b = await freshNs('bare', backend);
    t.bare.push(await timeOnce(() => inNs(b, 'sh', ['-c', bare])));
    if (i === 0 && (await liveRules(b)) !== total) throw new Error('bare iptables-restore loaded a different ruleset');
    t.rebare.push(await timeOnce(() => inNs(b, 'sh', ['-c', bare])));
    await netnsDel(b);
  }
  for (let i = 0; i < seqReps; i++) {
    const c = await freshNs('seq', backend);
    t.seq.push(await timeOnce(() => inNs(c, 'sh', [join(dir, 'p/seq.sh')])));
    if (i === 0 && (await liveRules(c)) !== total) throw new Error('the sequential script loaded a different ruleset');
    await netnsDel(c);
  }
  log(
    `  apply ${backend} ${fmtInt(rules)} rules: init ${stats(t.init).median.toFixed(3)} s (new ruleset ${stats(t.fresh).median.toFixed(3)} s), bare ${stats(t.bare).median.toFixed(3)} s` +
      (t.seq.length ? `, sequential ${stats(t.seq).median.toFixed(2)} s` : ''),
  );
  return { total, t };
}

export async function benchApply({ quick, reps, log, backends }) {
  const sizes = quick ? [100] : [100, 1000, 10000];
  const perService = 10;
  const rows = [];
  for (const backend of backends) {
    for (const rules of sizes) {
      const seqReps = quick ? 1 : rules >= 10000 ? 1 : Math.min(reps, 3);
      const { total, t } = await applyCase({ backend, rules, perService, reps: quick ? 1 : reps, seqReps, log });
      const size = `${fmtInt(rules)} rules in ${fmtInt(Math.ceil(rules / perService))} fragments (${fmtInt(total)} with base, v4+v6)`;
      const big = rules >= 10000;
      const subjects = [
        ['ruleset validated before (boot, re-runs)', { label: 'iptables-init', stats: stats(t.init), unit: 's' }],
        ['new ruleset: + scratch-namespace validation', { label: 'iptables-init', stats: stats(t.fresh), unit: 's' }],
      ];
      for (const [which, subject] of subjects) {
        rows.push({
          group: '1',
          what: `apply, ${backend}, ${which}`,
          size,
          subject,
          baseline: { label: 'bare iptables-restore (v4+v6)', stats: stats(t.bare), unit: 's' },
          ratio: { kind: 'slower' },
          target: big ? { text: '≤ 2.5×', ok: (r) => r <= 2.5 } : undefined,
        });
        rows.push({
          group: '1',
          what: `apply, ${backend}, ${which}`,
          size,
          subject,
          baseline: { label: 'sequential script (1 iptables process per rule)', stats: stats(t.seq), unit: 's' },
          ratio: { kind: 'faster' },
          target: big ? { text: '≥ 50× faster', ok: (r) => r >= 50 } : undefined,
        });
      }
      rows.push({
        group: '1',
        what: `re-apply onto the live ruleset, ${backend}`,
        size,
        subject: { label: 'iptables-init', stats: stats(t.reinit), unit: 's' },
        baseline: { label: 'bare iptables-restore onto live', stats: stats(t.rebare), unit: 's' },
        ratio: { kind: 'slower' },
      });
    }
  }
  if (!quick && backends.includes('nft')) {
    // The same 10,000 rules in 10 fragments: separates the per-fragment cost from the per-rule cost.
    const { total, t } = await applyCase({ backend: 'nft', rules: 10000, perService: 1000, reps, seqReps: 0, log });
    rows.push({
      group: '1',
      what: 'apply, nft (diagnostic: few large fragments)',
      size: `10,000 rules in 10 fragments (${fmtInt(total)} with base)`,
      subject: { label: 'iptables-init', stats: stats(t.init), unit: 's' },
      baseline: { label: 'bare iptables-restore (v4+v6)', stats: stats(t.bare), unit: 's' },
      ratio: { kind: 'slower' },
    });
  }
  return rows;
}
