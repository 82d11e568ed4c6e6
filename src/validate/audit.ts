import type { Problem } from '../errors.js';
import type { ParsedFile } from '../parse/parse-yaml.js';
import type { RuleConfig } from './schema.js';
import { problemAt } from './problems.js';

/**
 * `audit: true` turns a drop or reject into "log what it would drop, pass it on": on an
 * accept rule it means nothing, and is refused so that nobody believes it does something.
 */
export function checkAudit(rule: RuleConfig, file: ParsedFile, path: PropertyKey[], problems: Problem[]): void {
  if (rule.audit && rule.action === 'accept') {
    problems.push(
      problemAt(
        file,
        [...path, 'audit'],
        'audit: true is for drop and reject rules (it logs what the rule would drop and lets it pass); this rule accepts (set action: drop or reject, or leave audit out)',
      ),
    );
  }
}
