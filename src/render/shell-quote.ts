/**
 * Quote one word for sh: words made only of safe characters pass through, anything else
 * is quoted (single quotes with '\'' for embedded ones, the execa pattern). Nothing a config
 * file says can become shell syntax.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_\-./:,=+@%]+$/.test(word)) return word;
  // Single quotes are just as safe for `$(`, backticks and backslashes, but shellcheck
  // reads them as a mistake (SC2016, SC1003); double quotes with \ before $ ` " \ are not.
  if (/[$`\\]/.test(word)) return `"${word.replace(/[$`"\\]/g, '\\$&')}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Text for a `#` comment line: one line, no control characters. */
export function commentText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
