import type { ChainDump, Dump } from './types.js';

/** A line of a dump that is not what iptables-save writes. */
export class DumpError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** What iptables-nft says (on stderr, or as a `#` line in older versions) when legacy tables exist. */
export const LEGACY_WARNING = /legacy tables present/;

const COUNTERS = /^\[\d+:\d+\][ \t]+/;
/** A rule line's first two words (as awk splits them): `-A` and the chain. */
const OP_AND_CHAIN = /^([^ \t]+)(?:[ \t]+([^ \t]+))?/;

/** Blanks as awk's default field splitting sees them (this is the hot loop: no regex unless needed). */
function isBlank(code: number | undefined): boolean {
  return code === 32 || code === 9;
}

function trimBlanks(raw: string): string {
  if (!isBlank(raw.charCodeAt(0)) && !isBlank(raw.charCodeAt(raw.length - 1))) return raw;
  return raw.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
}

/**
 * A line as the parser reads it, or undefined for a blank or comment line: blanks trimmed,
 * a chain line cut to its name and policy, a rule's counters dropped. Two dumps whose lines
 * read the same, in the same order, parse the same.
 */
export function readingOf(raw: string): string | undefined {
  const line = trimBlanks(raw);
  if (line === '' || line.startsWith('#')) return undefined;
  if (line.startsWith(':')) {
    const words = line.split(/[ \t]+/, 2);
    return words.length === 2 ? `${words[0]} ${words[1]}` : words[0];
  }
  return line.startsWith('[') ? line.replace(COUNTERS, '') : line;
}

/**
 * Parse iptables-save output into tables → chains → rules, as it comes: `push` each piece of
 * text (lines may be split anywhere), then `end`. Comment lines, blank lines and counters
 * (chain and per-rule, as `iptables-save -c` writes them) are dropped; a rule is kept as its
 * `-A CHAIN ...` text. Anything iptables-save would not write is an error (a DumpError from
 * `push` or `end`): a truncated or foreign file must not be read as "no rules".
 */
export class DumpReader {
  private readonly tables = new Map<string, Map<string, ChainDump>>();
  private legacyTables = false;
  private chains: Map<string, ChainDump> | undefined;
  private lineNo = 0;
  private partial = '';
  /** Every line's reading (see readingOf), in order, when asked for: what a live dump is matched against. */
  readonly readings: string[] | undefined;

  constructor(options: { keepReadings?: boolean } = {}) {
    this.readings = options.keepReadings ? [] : undefined;
  }

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() as string;
    for (const raw of lines) this.readLine(raw);
  }

  end(): Dump {
    if (this.partial !== '') this.readLine(this.partial);
    this.partial = '';
    if (this.chains) throw new DumpError(this.lineNo, 'the last table has no COMMIT (a truncated dump?)');
    return { tables: this.tables, legacyTables: this.legacyTables };
  }

  private readLine(raw: string): void {
    const lineNo = ++this.lineNo;
    const line = readingOf(raw);
    if (line === undefined) {
      if (LEGACY_WARNING.test(raw)) this.legacyTables = true;
      return;
    }
    this.readings?.push(line);
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name === '') throw new DumpError(lineNo, 'a table line with no name');
      this.chains = this.tables.get(name) ?? new Map();
      this.tables.set(name, this.chains);
      return;
    }
    if (line === 'COMMIT') {
      if (!this.chains) throw new DumpError(lineNo, 'COMMIT outside a table');
      this.chains = undefined;
      return;
    }
    const chains = this.chains;
    if (line.startsWith(':')) {
      const words = line.split(/[ \t]+/);
      const name = (words[0] ?? '').slice(1);
      const policy = words[1];
      if (!chains) throw new DumpError(lineNo, 'a chain outside a table');
      if (name === '' || policy === undefined) throw new DumpError(lineNo, 'not a chain line (":CHAIN POLICY [packets:bytes]")');
      if (chains.has(name)) throw new DumpError(lineNo, `chain ${name} is declared twice`);
      chains.set(name, { policy, rules: [] });
      return;
    }
    const [, op, name] = OP_AND_CHAIN.exec(line) ?? [];
    if (op !== '-A' || name === undefined) throw new DumpError(lineNo, 'not a table, chain or rule line of iptables-save');
    if (!chains) throw new DumpError(lineNo, 'a rule outside a table');
    const chain = chains.get(name);
    if (!chain) throw new DumpError(lineNo, `a rule in chain ${name}, which is not declared`);
    chain.rules.push(line);
  }
}

/** Parse a whole dump (see DumpReader). */
export function parseDump(text: string): Dump {
  const reader = new DumpReader();
  reader.push(text);
  return reader.end();
}
