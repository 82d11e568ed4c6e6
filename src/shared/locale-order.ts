/**
 * The order gen-fw sorts names in (findings by file, sets by name): ICU's collation for
 * English, the same on every machine whatever LANG says (the default locale would make a
 * render's set order depend on where it ran: Danish sorts "aa" after "z"). Names made of
 * these characters are in that order by UTF-16 code unit (no ignorable characters, and
 * their primary weights rise with their code units; held by
 * test/unit/locale-order.test.ts), which needs no ICU collator: building one costs ~6 ms,
 * a third of what lint added to a render of 1,000 services. Any other name goes through
 * the collator.
 */
const PLAIN = /^[a-z0-9./-]*$/;

let collator: Intl.Collator | undefined;

export function localeOrder(a: string, b: string): number {
  if (PLAIN.test(a) && PLAIN.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return (collator ??= new Intl.Collator('en')).compare(a, b);
}
