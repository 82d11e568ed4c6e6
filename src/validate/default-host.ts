import { hostSchema } from './schema.js';
import { mappingDefaults } from './spec.js';

/**
 * The built-in host settings as one would write them in gen-fw.yaml: the defaults of
 * schema.ts, which are written that way. `gen-fw init` writes gen-fw.yaml from this, and
 * the JSON Schema shows the same defaults, so neither can disagree with the validator.
 */
export function defaultHostInput(): Record<string, unknown> {
  return mappingDefaults(hostSchema);
}
