// 4. Render: `gen-fw render` of N services (and of a host with a big address set), wall
//    time and peak RSS, against ferm rendering the equivalent policy with
//    `ferm --noexec --lines` (nothing is applied; its service is never enabled). Both run
//    inside a namespace of our own, so even a mistake could not reach the host's firewall.
//    With --against DIR, another build of gen-fw renders the same cases in the same rounds
//    (a row each: this build against that one; at 1,000 services the target is ≤ 1.10×,
//    issue 12's bound against the render it started from).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeBlocklist, writeFermConfig, writeHostConfig, writeServicesConfD } from './lib/gen.mjs';
import { CLI, fmtInt, has, interleave, NODE, netnsAdd, netnsDel, stats, tempDir, timedProcess } from './lib/util.mjs';

export async function benchRender({ quick, reps, log, root, against }) {
  const haveFerm = await has('ferm');
  const cases = quick
    ? [{ services: 10 }, { services: 100 }, { services: 10, set: 1000 }]
    : [{ services: 10 }, { services: 1000 }, { services: 10000 }, { services: 10, set: 50000 }];
  const ns = root ? await netnsAdd('render') : undefined;
  const wrap = (cmd, args) => (ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args]);
  const rows = [];
  try {
    for (const c of cases) {
      const dir = tempDir(`render-${c.services}`);
      writeServicesConfD(join(dir, 'conf.d'), c.services);
      // A fresh --out each run: render skips the writes when the same bundle is already live.
      const genArgs = [CLI, 'render', '--conf-d', join(dir, 'conf.d')];
      if (c.set) {
        mkdirSync(join(dir, 'lists'));
        writeBlocklist(join(dir, 'lists/blocklist.txt'), c.set);
        writeHostConfig(join(dir, 'gen-fw.yaml'), 'lists/blocklist.txt');
        genArgs.push('--config', join(dir, 'gen-fw.yaml'));
      }
      const fermConf = writeFermConfig(dir, c.services, c.set ? 'lists/blocklist.txt' : undefined);
      const variants = [...(haveFerm ? ['gen-fw', 'ferm'] : ['gen-fw']), ...(against ? ['against'] : [])];
      const n = quick ? 1 : reps;
      const res = await interleave(n, variants, (v, i) => {
        const [cmd, args] =
          v === 'gen-fw'
            ? wrap(NODE, [...genArgs, '--out', join(dir, `out${i}`)])
            : v === 'against'
              ? wrap(NODE, [against, ...genArgs.slice(1), '--out', join(dir, `against${i}`)])
              : wrap('ferm', ['--noexec', '--lines', fermConf]);
        return timedProcess(cmd, args, { cwd: dir, maxBuffer: 1 << 30 });
      });
      const pick = (v) => ({
        stats: stats(res[v].map((r) => r.seconds)),
        rssKb: Math.max(...res[v].map((r) => r.maxRssKb ?? 0)) || undefined,
      });
      const g = pick('gen-fw');
      const f = haveFerm ? pick('ferm') : undefined;
      log(
        `  render ${c.services} services${c.set ? ` + ${c.set} set` : ''}: gen-fw ${g.stats.median.toFixed(3)} s, ferm ${f ? f.stats.median.toFixed(3) + ' s' : 'n/a'}`,
      );
      const size = `${fmtInt(c.services)} services${c.set ? ` + ${fmtInt(c.set)}-address set` : ''}`;
      let target;
      const mem = (row) => !row.subject.rssKb || row.subject.rssKb < 200 * 1024;
      if (!quick && c.services === 1000)
        target = { text: '< 0.5 s, < 200 MB', ok: (_r, row) => row.subject.stats.median < 0.5 && mem(row) };
      else if (!quick && c.services === 10000)
        target = { text: '≤ ferm (≤ 1.00×), < 200 MB', ok: (r, row) => (r === undefined ? undefined : r <= 1 && mem(row)) };
      else if (!quick) target = { text: '< 200 MB', ok: (_r, row) => mem(row) };
      rows.push({
        group: '4',
        what: 'render',
        size,
        subject: { label: 'gen-fw render', unit: 's', ...g },
        baseline: f
          ? { label: c.set ? 'ferm --noexec --lines (set as a saddr list: 1 rule per address)' : 'ferm --noexec --lines', unit: 's', ...f }
          : { label: 'ferm: not installed' },
        ratio: f ? { kind: 'slower' } : undefined,
        target,
      });
      if (against) {
        const a = pick('against');
        log(`  render ${c.services} services${c.set ? ` + ${c.set} set` : ''}: --against ${a.stats.median.toFixed(3)} s`);
        rows.push({
          group: '4',
          what: 'render',
          size,
          subject: { label: 'gen-fw render', unit: 's', ...g },
          baseline: { label: `the --against build (${against})`, unit: 's', ...a },
          ratio: { kind: 'slower' },
          target:
            !quick && c.services === 1000 && !c.set ? { text: '≤ 1.10×', ok: (r) => (r === undefined ? undefined : r <= 1.1) } : undefined,
        });
      }
    }
    return rows;
  } finally {
    if (ns) await netnsDel(ns);
  }
}
