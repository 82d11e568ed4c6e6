import jsyaml from 'js-yaml';
import { defaultHostInput } from '../validate/default-host.js';
import { jsonSchemas, type JsonSchema } from '../validate/json-schema.js';
import { HOST_KEY_DOCS } from '../validate/key-docs.js';

/**
 * The text of `gen-fw init`'s gen-fw.yaml: every key of the host schema, in its order, set
 * to the validator's own default and commented from key-docs.ts. A key with no default is
 * written commented out, with an example. So the file means exactly what no file means
 * (test/init/init.test.ts validates it and compares).
 */
export function hostYaml(schemaLine: string): string {
  const lines = [
    schemaLine,
    '# gen-fw.yaml: host-wide settings. Every key is here, set to its built-in default:',
    '# deleting a key (or this whole file) changes nothing. Change what you need.',
    '# Service rules go in conf.d/NAME.yaml, one file per service.',
    '',
  ];
  writeKeys(jsonSchemas().host, defaultHostInput(), '', '', lines);
  return lines.join('\n') + '\n';
}

/** The branch of a schema that is a mapping with named keys (ssh is `false` or one). */
function objectBranch(node: JsonSchema): JsonSchema | undefined {
  if (node.properties) return node;
  for (const branch of (node.anyOf ?? []) as JsonSchema[]) {
    const found = objectBranch(branch);
    if (found) return found;
  }
  return undefined;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One value on one line, in flow style (`[a, b]`, `{ k: v }`), quoted where YAML needs it. */
const flow = (value: unknown): string => jsyaml.dump(value, { flowLevel: 0, lineWidth: -1 }).trimEnd();

function writeKeys(node: JsonSchema, defaults: Record<string, unknown>, path: string, indent: string, lines: string[]): void {
  const properties = (objectBranch(node)?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries(properties)) {
    const keyPath = path ? `${path}.${key}` : key;
    const doc = HOST_KEY_DOCS[keyPath];
    const value = defaults[key];
    if (doc) lines.push(`${indent}# ${doc.text}`);
    if (value === undefined) {
      lines.push(`${indent}# ${key}: ${doc?.example ?? '...'}`);
    } else if (isMapping(value) && objectBranch(child)) {
      // An empty mapping stays `{}` (a key with only comments under it would be null).
      lines.push(`${indent}${key}:${Object.keys(value).length ? '' : ' {}'}`);
      writeKeys(child, value, keyPath, indent + '  ', lines);
    } else {
      lines.push(`${indent}${key}: ${flow(value)}`);
      if (doc?.example) lines.push(`${indent}#   e.g. ${key}: ${doc.example}`);
    }
    if (!path) lines.push('');
  }
}
