import type { Origin } from './paths.js';
import type { PositionOf } from '../load/source-positions.js';

/** A place in the sources: `file:line:col key.path`. */
export interface Place {
  file: string;
  line?: number;
  col?: number;
  key: string;
}

export const BUILT_IN = '(built-in defaults)';

/** Which gen-fw.yaml setting makes each base rule (by the tag in its comment). */
const BASE_KEYS: [RegExp, string[]][] = [
  [/^loopback$/, ['loopback']],
  [/^deny$/, ['deny', 'source']],
  [/^established$/, ['conntrack', 'established']],
  [/^invalid$/, ['conntrack', 'invalid']],
  [/^icmpv6/, ['ipv6']],
  [/^ssh$/, ['ssh']],
  [/^ping$/, ['icmp', 'echo_request']],
  [/^dhcp/, ['dhcp']],
  [/^metadata/, ['metadata']],
  [/^dns$/, ['dns']],
  [/^ntp$/, ['ntp']],
  [/^docker/, ['docker']],
  [/^final$/, ['final']],
];

export function keyText(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

export class Places {
  constructor(
    private readonly positions: PositionOf,
    /** gen-fw.yaml as the config shows it; undefined when built-in defaults were used. */
    private readonly hostFile: string | undefined,
  ) {}

  inFile(file: string, path: readonly (string | number)[]): Place {
    const pos = this.positions(file, path);
    return { file, line: pos?.line, col: pos?.col, key: keyText(path) };
  }

  /** A host setting: its line in gen-fw.yaml, or the built-in defaults when the file leaves it out. */
  host(path: readonly (string | number)[]): Place {
    const place = this.hostFile ? this.inFile(this.hostFile, path) : undefined;
    return place?.line !== undefined
      ? place
      : { file: this.hostFile ?? BUILT_IN, key: `${keyText(path)}${this.hostFile ? ' (default)' : ''}` };
  }

  of(origin: Origin): Place {
    if (origin.kind === 'service') return this.inFile(origin.file, ['rules', origin.index]);
    const path = BASE_KEYS.find(([re]) => re.test(origin.tag))?.[1] ?? [origin.tag];
    return this.host(path);
  }
}

export function placeText(p: Place): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.col !== undefined) where += `:${p.col}`;
  return `${where} ${p.key}`;
}
