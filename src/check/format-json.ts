import { exitCodeOf } from './check-rulesets.js';
import type { CheckReport } from './types.js';

/** The report for tools: one JSON document, stable keys. */
export function formatJson(report: CheckReport): string {
  const code = exitCodeOf(report);
  return JSON.stringify(
    {
      verdict: code === 0 ? 'in-sync' : code === 1 ? 'drift' : 'cannot-check',
      exit_code: code,
      checked_at: new Date(report.checkedAt * 1000).toISOString(),
      rulesets: report.results.map((r) => ({
        ruleset: r.ruleset,
        status: r.status,
        saved: r.saved,
        live: r.live,
        ...(r.error ? { error: r.error.message } : {}),
        compared: r.size,
        rules_added: r.tally.rulesAdded,
        rules_removed: r.tally.rulesRemoved,
        policies_changed: r.tally.policiesChanged,
        chains_added: r.tally.chainsAdded,
        chains_removed: r.tally.chainsRemoved,
        legacy_tables: r.legacyTables,
        findings: r.findings,
        changes: r.changes,
      })),
    },
    null,
    2,
  );
}
