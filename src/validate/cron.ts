import { ValueError, show } from './value-error.js';

/**
 * A crontab schedule as cron(8) reads one: cron skips a whole /etc/cron.d file over one bad
 * field ("bad minute"), so the drift check would silently never run. Each field is a list
 * of `*`, N or N-M, each optionally `/STEP`; month and weekday also take names.
 */
interface Field {
  name: string;
  low: number;
  high: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', low: 0, high: 59 },
  { name: 'hour', low: 0, high: 23 },
  { name: 'day of month', low: 1, high: 31 },
  { name: 'month', low: 1, high: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 0 and 7 are both Sunday.
  { name: 'day of week', low: 0, high: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** cron's nicknames (Debian's cron knows @midnight too). */
const NICKNAMES = /^@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

const ITEM_RE = /^(\*|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:\/(\d+))?$/i;

function value(text: string, field: Field, whole: string): number {
  const lower = text.toLowerCase();
  const named = field.names?.indexOf(lower) ?? -1;
  if (named >= 0) return field.names === FIELDS[3]!.names ? named + 1 : named;
  if (!/^\d{1,3}$/.test(text)) {
    throw new ValueError(
      `${field.name} field ${show(whole)}: ${show(text)} is not a number${field.names ? ' or a name (' + field.names.join(', ') + ')' : ''}`,
    );
  }
  const n = Number(text);
  if (n < field.low || n > field.high)
    throw new ValueError(`${field.name} field ${show(whole)}: ${n} is out of range ${field.low}-${field.high}`);
  return n;
}

function checkField(text: string, field: Field): void {
  for (const item of text.split(',')) {
    const m = ITEM_RE.exec(item);
    if (!m) throw new ValueError(`${field.name} field ${show(text)}: ${show(item)} is not *, N or N-M, optionally followed by /STEP`);
    if (m[2] !== undefined) {
      const from = value(m[2], field, text);
      const to = m[3] === undefined ? from : value(m[3], field, text);
      if (from > to) throw new ValueError(`${field.name} field ${show(text)}: range ${m[2]}-${m[3]} runs backwards`);
      if (m[4] !== undefined && m[3] === undefined)
        throw new ValueError(`${field.name} field ${show(text)}: a step needs * or a range before it (like */5 or 0-30/5)`);
    }
    if (m[4] !== undefined) {
      const step = Number(m[4]);
      const span = field.high - field.low + 1;
      if (step < 1 || step > span) throw new ValueError(`${field.name} field ${show(text)}: step ${m[4]} is out of range 1-${span}`);
    }
  }
}

export function parseSchedule(value: unknown): string {
  if (typeof value !== 'string')
    throw new ValueError(`${show(value)} is not a cron schedule (five fields like "*/15 * * * *", or @hourly)`);
  const text = value.trim();
  if (NICKNAMES.test(text)) return text;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    throw new ValueError(
      `${show(value)} is not a cron schedule: it has ${fields.length} field${fields.length === 1 ? '' : 's'}, cron takes five (minute hour day-of-month month day-of-week, like "*/15 * * * *") or @hourly, @daily, ...`,
    );
  }
  fields.forEach((f, i) => checkField(f, FIELDS[i]!));
  return fields.join(' ');
}
