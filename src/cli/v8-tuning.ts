import { setFlagsFromString } from 'node:v8';

/**
 * gen-fw runs for well under a second on most projects. V8's optimising compiler starts on
 * a function after a small amount of work (its "interrupt budget"); in a run this short most
 * of that compiling never pays for itself, and it ran on other threads where it was counted
 * in the process's CPU time: at 1,000 services about a third of a render's user time.
 * Four times the budget leaves the long runs (10,000 services, several seconds) optimised
 * nearly as before and the short ones mostly interpreted. Measured in docs/benchmarks.md
 * ("Render with lint, third session"). Imported first by main.ts, before any work.
 */
/** V8's default in Node 20 (V8 11.3); Node's `engines` starts there. */
const DEFAULT_INTERRUPT_BUDGET = 66 * 1024;

/** A budget the user gave node (on its command line or in NODE_OPTIONS) is left as it is. */
const GIVEN = /(^|\s)--interrupt[-_]budget(=|\s|$)/;

if (!GIVEN.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
  setFlagsFromString(`--interrupt-budget=${4 * DEFAULT_INTERRUPT_BUDGET}`);
}
