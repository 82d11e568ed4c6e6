import { formatProblem } from '../errors.js';
import type { Finding } from './finding.js';
import { findingProblems } from './lint.js';

/** One line a finding: `file:line:col key.path: what and why`. */
export function formatText(findings: readonly Finding[]): string[] {
  return findingProblems(findings).map(formatProblem);
}

export function formatJson(findings: readonly Finding[]): string {
  return JSON.stringify(
    {
      findings: findings.map((f) => ({
        kind: f.kind,
        file: f.at.file,
        line: f.at.line ?? null,
        col: f.at.col ?? null,
        key: f.at.key,
        message: f.message,
        related: f.related.map((r) => ({ file: r.file, line: r.line ?? null, col: r.col ?? null, key: r.key })),
        ...(f.witness ? { witness: f.witness } : {}),
      })),
    },
    null,
    2,
  );
}
