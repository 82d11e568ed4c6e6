import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the message on timeout ("the rollback of the --try"). */
  what: string;
  /** Generous by default: a loaded 2-core machine can take seconds for one apply. */
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Poll until `probe` gives a value: it is called again while it throws or returns
 * false, null or undefined (an expect() inside it must be followed by `return true`).
 * Resolves with that value; after the deadline, fails naming what it waited for and
 * what the last attempt saw. Tests wait for the event itself this way, never for a time.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, false | null | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last = 'it never answered';
  let tries = 0;
  for (;;) {
    tries++;
    try {
      const value = await probe();
      if (value !== false && value !== null && value !== undefined) return value as Exclude<T, false | null | undefined>;
      last = `it gave ${String(value)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s (${tries} tries) waiting for ${opts.what}; the last try: ${last}`);
}
