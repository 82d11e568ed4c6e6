import jsyaml from 'js-yaml';

/*
 * The YAML 1.2 core schema, exactly (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
 * js-yaml's own CORE_SCHEMA reads more than the spec does — `0b1011` and `1_000` as numbers
 * (YAML 1.1 habits) — so a port could be written in forms no other YAML 1.2 reader takes.
 * Here a plain scalar is a number only in the spec's forms; anything else stays text, and
 * the field that wanted a number says so. null and booleans are js-yaml's, which follow
 * the spec (null, Null, NULL, ~, empty; true, True, TRUE, false, False, FALSE).
 */

const DECIMAL = /^[-+]?[0-9]+$/;
const OCTAL = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;

const int = new jsyaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && (DECIMAL.test(data) || OCTAL.test(data) || HEX.test(data)),
  construct: (data: string) => {
    if (OCTAL.test(data)) return parseInt(data.slice(2), 8);
    if (HEX.test(data)) return parseInt(data.slice(2), 16);
    return parseInt(data, 10);
  },
  predicate: (v: unknown) => typeof v === 'number' && Number.isInteger(v),
});

const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(inf|Inf|INF)$/;
const NAN = /^\.(nan|NaN|NAN)$/;

const float = new jsyaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && (FLOAT.test(data) || INF.test(data) || NAN.test(data)),
  construct: (data: string) => {
    if (NAN.test(data)) return NaN;
    if (INF.test(data)) return data.startsWith('-') ? -Infinity : Infinity;
    return parseFloat(data);
  },
  predicate: (v: unknown) => typeof v === 'number' && !Number.isInteger(v),
});

const types = (jsyaml as unknown as { types: Record<'null' | 'bool', jsyaml.Type> }).types;

/** The schema every gen-fw YAML file is read with. */
export const CORE_1_2: jsyaml.Schema = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: [types.null, types.bool, int, float] });
