import type { CheckReport, RulesetResult, Tally } from './types.js';

interface Gauge {
  name: string;
  help: string;
  value: (r: RulesetResult) => number;
  families?: boolean;
}

const tally = (k: keyof Tally) => (r: RulesetResult) => r.tally[k];

const GAUGES: Gauge[] = [
  { name: 'gen_fw_drift', help: '1 if the live ruleset differs from the saved one.', value: (r) => (r.status === 'drift' ? 1 : 0) },
  { name: 'gen_fw_drift_rules_added', help: 'Rules (ipsets: members) live but not saved.', value: tally('rulesAdded') },
  { name: 'gen_fw_drift_rules_removed', help: 'Rules (ipsets: members) saved but not live.', value: tally('rulesRemoved') },
  {
    name: 'gen_fw_drift_policies_changed',
    help: 'Built-in chains whose policy changed (ipsets: sets whose definition changed).',
    value: tally('policiesChanged'),
  },
  { name: 'gen_fw_drift_chains_added', help: 'Chains (ipsets: sets) live but not saved.', value: tally('chainsAdded') },
  { name: 'gen_fw_drift_chains_removed', help: 'Chains (ipsets: sets) saved but not live.', value: tally('chainsRemoved') },
  {
    name: 'gen_fw_drift_legacy_tables',
    help: '1 if iptables-nft reported iptables-legacy tables, whose rules are not checked.',
    value: (r) => (r.legacyTables ? 1 : 0),
    families: true,
  },
];

function gauge(lines: string[], name: string, help: string, samples: string[]): void {
  if (!samples.length) return;
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
}

/**
 * node_exporter textfile metrics, the same lines iptables-check writes. Per-ruleset gauges
 * only for the rulesets that could be compared; check_success is 0 when any could not.
 */
export function formatPrometheus(report: CheckReport): string[] {
  const lines: string[] = [];
  const ok = report.results.filter((r) => r.status !== 'error');
  const success = ok.length === report.results.length ? 1 : 0;
  gauge(lines, 'gen_fw_drift_check_success', '1 if the last drift check could compare every ruleset, 0 if it could not.', [
    `gen_fw_drift_check_success ${success}`,
  ]);
  gauge(lines, 'gen_fw_drift_check_timestamp_seconds', 'When the last drift check ran, in Unix time.', [
    `gen_fw_drift_check_timestamp_seconds ${report.checkedAt}`,
  ]);
  for (const g of GAUGES) {
    const rs = g.families ? ok.filter((r) => r.ruleset !== 'ipsets') : ok;
    gauge(
      lines,
      g.name,
      g.help,
      rs.map((r) => `${g.name}{ruleset="${r.ruleset}"} ${g.value(r)}`),
    );
  }
  dropMetrics(lines, report.results);
  return lines;
}

/**
 * The packet counters of gen-fw's drop and audit rules (when the live dump had them), in the
 * order iptables-check writes them (runtime/check-metrics.awk): by ruleset, each sum where it
 * first appeared in the dump.
 */
function dropMetrics(lines: string[], results: readonly RulesetResult[]): void {
  const rows: string[] = [];
  for (const r of results) {
    if (!r.drops) continue;
    for (const c of r.drops.counts) rows.push(`${r.ruleset} ${c.kind} ${c.reason} ${c.service ?? '-'} ${c.packets}`);
    rows.push(`${r.ruleset} mode - - ${r.drops.auditMode ? 1 : 0}`);
  }
  const samples = (kind: string, name: string) =>
    rows
      .map((row) => row.split(' '))
      .filter((f) => f[1] === kind)
      .map(([ruleset, , reason, service, packets]) => {
        const labels = kind === 'mode' ? '' : `,reason="${reason}"${service === '-' ? '' : `,service="${service}"`}`;
        return `${name}{ruleset="${ruleset}"${labels}} ${packets}`;
      });
  counter(
    lines,
    'gen_fw_dropped_packets_total',
    'Packets the rules of gen-fw dropped or rejected since they were loaded, by reason.',
    'counter',
    samples('dropped', 'gen_fw_dropped_packets_total'),
  );
  counter(
    lines,
    'gen_fw_audited_packets_total',
    'Packets the rules of gen-fw would have dropped or rejected, logged and let pass instead (mode audit, audit: true), by reason.',
    'counter',
    samples('audited', 'gen_fw_audited_packets_total'),
  );
  counter(
    lines,
    'gen_fw_audit_mode',
    '1 if the live ruleset is in mode audit (drops nothing), 0 if in enforce.',
    'gauge',
    samples('mode', 'gen_fw_audit_mode'),
  );
}

function counter(lines: string[], name: string, help: string, type: 'counter' | 'gauge', samples: string[]): void {
  if (!samples.length) return;
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
}
