import { setFlagsFromString } from 'node:v8';

/**
 * gen-fw runs for well under a second on most projects. V8's optimising compiler starts on
 * a function after a small amount of work (its "interrupt budget"); in a run this short most
 * of that compiling never pays for itself, and it ran on other threads where it was counted
 * in the process's CPU time: at 1,000 services about a third of a render's user time.
 * Four times the budget leaves the long runs (10,000 services, several seconds) optimised
 * nearly as before and the short ones mostly interpreted. Measured in docs/benchmarks.md
 * ("Issue 12: V8's optimising compiler"). Imported first by main.ts, before any work.
 */
const DEFAULT_INTERRUPT_BUDGET = 66 * 1024;

if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) {
  setFlagsFromString(`--interrupt-budget=${4 * DEFAULT_INTERRUPT_BUDGET}`);
}
