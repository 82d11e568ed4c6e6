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
 * Parse iptables-save output into tables → chains → rules. Comment lines, blank lines and
 * counters (chain and per-rule, as `iptables-save -c` writes them) are dropped; a rule is
 * kept as its `-A CHAIN ...` text. Anything iptables-save would not write is an error: a
 * truncated or foreign file must not be read as "no rules".
 */
export function parseDump(text: string): Dump {
  const tables = new Map<string, Map<string, ChainDump>>();
  let legacyTables = false;
  let chains: Map<string, ChainDump> | undefined;
  let lineNo = 0;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    lineNo++;
    let line = trimBlanks(raw);
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (LEGACY_WARNING.test(line)) legacyTables = true;
      continue;
    }
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name === '') throw new DumpError(lineNo, 'a table line with no name');
      chains = tables.get(name) ?? new Map();
      tables.set(name, chains);
      continue;
    }
    if (line === 'COMMIT') {
      if (!chains) throw new DumpError(lineNo, 'COMMIT outside a table');
      chains = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const words = line.split(/[ \t]+/);
      const name = (words[0] ?? '').slice(1);
      const policy = words[1];
      if (!chains) throw new DumpError(lineNo, 'a chain outside a table');
      if (name === '' || policy === undefined) throw new DumpError(lineNo, 'not a chain line (":CHAIN POLICY [packets:bytes]")');
      if (chains.has(name)) throw new DumpError(lineNo, `chain ${name} is declared twice`);
      chains.set(name, { policy, rules: [] });
      continue;
    }
    if (line.startsWith('[')) line = line.replace(COUNTERS, '');
    const [, op, name] = OP_AND_CHAIN.exec(line) ?? [];
    if (op !== '-A' || name === undefined) throw new DumpError(lineNo, 'not a table, chain or rule line of iptables-save');
    if (!chains) throw new DumpError(lineNo, 'a rule outside a table');
    const chain = chains.get(name);
    if (!chain) throw new DumpError(lineNo, `a rule in chain ${name}, which is not declared`);
    chain.rules.push(line);
  }
  if (chains) throw new DumpError(lineNo, 'the last table has no COMMIT (a truncated dump?)');
  return { tables, legacyTables };
}
