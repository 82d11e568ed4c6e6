import { hostSchema } from './schema.js';

/**
 * The built-in host settings as one would write them in gen-fw.yaml: hostSchema's output
 * for an empty file, with the parsed values (address lists, port ranges) turned back into
 * their written form. `gen-fw init` writes gen-fw.yaml from this, and the JSON Schema
 * shows it as defaults, so neither can disagree with the validator.
 */
export function defaultHostInput(): Record<string, unknown> {
  return written(hostSchema.parse({})) as Record<string, unknown>;
}

function written(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(written);
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys === 'addresses,sets') {
    const spec = o as { addresses: { text: string }[]; sets: string[] };
    return [...spec.addresses.map((a) => a.text), ...spec.sets.map((s) => '@' + s)];
  }
  if (keys === 'from,to') {
    const { from, to } = o as { from: number; to: number };
    return from === to ? from : `${from}:${to}`;
  }
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, written(v)]));
}
