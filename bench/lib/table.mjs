// The one table the runner prints: a row is one subject measured against one baseline,
// with the ratio and, where the issue sets one, the target and PASS/MISS.
//
// row = {
//   group, what, size,
//   subject:  { label, stats, unit: 's' | 'Gbit/s' | 'conn/s', rssKb? },
//   baseline: { label, stats, unit, rssKb? } | undefined,
//   ratio:    { kind: 'slower' | 'faster' | 'fraction' } | undefined,   // how to read subject vs baseline
//   target:   { text, ok: (ratio, row) => boolean } | undefined,
//   note,     // a short remark (skips, caps)
// }

function num(v, unit, scale = v) {
  if (unit === 's') return scale < 0.1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(scale < 10 ? 3 : 1)} s`;
  if (unit === 'Gbit/s') return `${v.toFixed(2)} Gbit/s`;
  if (unit === 'conn/s') return `${Math.round(v).toLocaleString('en-US')} conn/s`;
  return String(v);
}

/** " [min–max]" in the median's unit (ms or s), or " (n=1)". */
function range(s, unit) {
  const strip = (t) => t.replace(/ (ms|s|Gbit\/s|conn\/s)$/, '');
  return s.n > 1 ? ` [${strip(num(s.min, unit, s.median))}–${strip(num(s.max, unit, s.median))}]` : ' (n=1)';
}

export function cell(m) {
  if (!m) return '—';
  if (!m.stats) return m.label;
  const mem = m.rssKb ? ` · ${Math.round(m.rssKb / 1024)} MB` : '';
  return `${num(m.stats.median, m.unit)}${range(m.stats, m.unit)}${mem}`;
}

/** The ratio of medians, as a number in the row's reading (see ratio.kind). */
export function ratioOf(row) {
  if (!row.ratio || !row.subject?.stats || !row.baseline?.stats) return undefined;
  const s = row.subject.stats.median;
  const b = row.baseline.stats.median;
  return row.ratio.kind === 'faster' ? b / s : s / b;
}

function ratioText(row) {
  const r = ratioOf(row);
  if (r === undefined) return '—';
  if (row.ratio.kind === 'faster') return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}× faster`;
  if (row.ratio.kind === 'slower') return `${r.toFixed(2)}×`;
  const pct = (r - 1) * 100;
  return `${r.toFixed(3)} (${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)} %)`;
}

export function verdict(row, quick) {
  if (!row.target) return '';
  if (quick) return 'smoke';
  if (row.error) return 'ERROR';
  const r = ratioOf(row);
  if (r === undefined && row.ratio) return 'n/a';
  const ok = row.target.ok(r, row);
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS';
}

export function renderTable(rows, { quick }) {
  const head = ['#', 'measurement', 'size', 'gen-fw', 'baseline', 'baseline result', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [
    r.group,
    r.what + (r.note ? ` (${r.note})` : ''),
    r.size ?? '',
    r.error ? `ERROR: ${r.error}` : r.subject ? (r.subject.stats ? `${r.subject.label}: ${cell(r.subject)}` : r.subject.label) : '—',
    r.baseline?.label ?? '—',
    r.baseline?.stats ? cell(r.baseline) : '—',
    ratioText(r),
    r.target?.text ?? '',
    verdict(r, quick),
  ]);
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  const lines = [head, ...body].map((cells) => `| ${cells.map(esc).join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  return lines.join('\n');
}
