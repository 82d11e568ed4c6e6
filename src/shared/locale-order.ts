/**
 * String.prototype.localeCompare's order (ICU's, for the default locale), without ICU for
 * the names gen-fw mostly sorts. The first comparison through ICU builds its collator,
 * about 6 ms: a third of what lint adds to a render of 1,000 services. Text made only of
 * these characters is in the same order by UTF-16 code unit as by localeCompare (no
 * ignorable characters, and their primary weights rise with their code units; held by
 * test/unit/locale-order.test.ts); anything else is compared by ICU, as before.
 */
const PLAIN = /^[a-z0-9./-]*$/;

let collator: Intl.Collator | undefined;

export function localeOrder(a: string, b: string): number {
  if (PLAIN.test(a) && PLAIN.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return (collator ??= new Intl.Collator()).compare(a, b);
}
