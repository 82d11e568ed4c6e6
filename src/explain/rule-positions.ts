import { parseYamlFile } from '../parse/parse-yaml.js';

/**
 * Where a service's rule is written: the one place explain asks the parser for a position
 * (`rules[1]` → line and column of that rule's mapping). Files are read through `read`, once.
 */
export type RuleLocator = (file: string, index: number) => { line: number; col: number } | undefined;

export function ruleLocator(read: (file: string) => string | undefined): RuleLocator {
  const parsed = new Map<string, ReturnType<typeof parseYamlFile> | undefined>();
  return (file, index) => {
    if (!parsed.has(file)) {
      const text = read(file);
      parsed.set(file, text === undefined ? undefined : parseYamlFile(file, text));
    }
    const r = parsed.get(file);
    return r?.ok ? r.parsed.positionOf(['rules', index]) : undefined;
  };
}
