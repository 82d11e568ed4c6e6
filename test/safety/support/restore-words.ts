/**
 * Split one iptables-restore line into arguments exactly as iptables-restore does
 * (iptables/xshared.c add_param_to_argv): words are separated by spaces, tabs and
 * newlines; "..." quotes, inside which a backslash escapes the next character.
 */
export function splitRestoreLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let open = false;
  let escaped = false;
  let quoted = false;
  for (const ch of line) {
    if (open) {
      if (escaped) {
        word += ch;
        escaped = false;
        continue;
      }
      if (ch === '\\') {
        escaped = true;
        continue;
      }
      if (ch !== '"') {
        word += ch;
        continue;
      }
      open = false; // the closing quote ends the word, like a space
    } else if (ch === '"') {
      open = true;
      quoted = true;
      continue;
    }
    if (ch === '"' || ch === ' ' || ch === '\t' || ch === '\n') {
      if (ch !== '"' && word === '' && !quoted) continue;
      words.push(word);
      word = '';
      quoted = false;
      continue;
    }
    word += ch;
  }
  if (open) throw new Error(`unterminated quote in: ${line}`);
  if (word !== '') words.push(word);
  return words;
}

export interface PayloadRule {
  family: 4 | 6;
  table: string;
  /** The `# from NAME` group the line belongs to (base, or a fragment file name). */
  from: string;
  words: string[];
}

/** The `-A` lines of `iptables-init --dry-run` output, per family, table and fragment. */
export function parseDryRun(stdout: string): PayloadRule[] {
  const rules: PayloadRule[] = [];
  let family: 4 | 6 | undefined;
  let table = '';
  let from = '';
  for (const line of stdout.split('\n')) {
    const header = /^# ---- IPv([46]):/.exec(line);
    if (header) {
      family = Number(header[1]) as 4 | 6;
      continue;
    }
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('# from ')) from = line.slice('# from '.length);
    else if (line.startsWith('-A ') && family) rules.push({ family, table, from, words: splitRestoreLine(line) });
  }
  return rules;
}

/** The values of one option (e.g. `--comment`) across the `-A` lines of an iptables-save dump. */
export function optionValues(dump: string, option: string): string[] {
  const out: string[] = [];
  for (const line of dump.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const words = splitRestoreLine(line);
    words.forEach((w, i) => {
      if (w === option && i + 1 < words.length) out.push(words[i + 1]!);
    });
  }
  return out;
}
