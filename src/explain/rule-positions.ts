import type { PositionOf } from '../load/source-positions.js';

/**
 * Where a service's rule is written (`rules[1]` → line and column of that rule's mapping),
 * from the places the loader kept during the one parse: no file is read again.
 */
export type RuleLocator = (file: string, index: number) => { line: number; col: number } | undefined;

export function ruleLocator(positionOf: PositionOf): RuleLocator {
  return (file, index) => positionOf(file, ['rules', index]);
}
