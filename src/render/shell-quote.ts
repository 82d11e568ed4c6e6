/**
 * Quote one word for sh: words made only of safe characters pass through, anything else
 * is single-quoted with '\'' for embedded quotes (the execa pattern). Nothing a config
 * file says can become shell syntax.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_\-./:,=+@%]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Text for a `#` comment line: one line, no control characters. */
export function commentText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
