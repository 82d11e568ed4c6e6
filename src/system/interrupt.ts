/**
 * Clean-ups that must run when the process is interrupted (SIGINT, SIGTERM) while it holds
 * something outside itself (scratch namespaces, a temporary directory). They run
 * synchronously, then the signal is raised again, so the process ends as interrupted.
 */
const cleanups = new Set<() => void>();

function onSignal(signal: NodeJS.Signals): void {
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      // the next clean-up still runs
    }
  }
  cleanups.clear();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/** Run `fn` if the process is interrupted before the returned function is called. */
export function cleanUpOnInterrupt(fn: () => void): () => void {
  if (cleanups.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
    if (cleanups.size === 0) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  };
}
