/** A value that is not what its field takes; the message is for people. */
export class ValueError extends Error {}

/** How much of a value a message quotes: longer values are cut, and their length said. */
export const SHOWN_MAX = 80;

/** A value as a message quotes it: JSON, at most SHOWN_MAX characters, then "… (N characters)". */
export function show(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return cap(s);
}

/** Text cut to SHOWN_MAX characters, saying how long it was. */
export function cap(text: string): string {
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX)}… (${text.length} characters)` : text;
}
