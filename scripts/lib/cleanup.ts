/** Stop functions of everything a script started, run once, newest first. */
export class Cleanup {
  private readonly tasks: { name: string; stop: () => Promise<void> }[] = [];
  private running: Promise<string[]> | undefined;
  /** The exit status a signal asked for (128 + its number), once one arrived. */
  interruptedExitCode: number | undefined;

  /** Registers a stop function (servers, child processes). */
  add(name: string, stop: () => Promise<void>): void {
    this.tasks.push({ name, stop });
  }

  /** Stops everything registered; returns the failures as messages (never throws). */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const task of this.tasks.reverse()) {
        try {
          await task.stop();
        } catch (err) {
          failures.push(`${task.name}: ${(err as Error).message}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * On Ctrl-C (SIGINT), SIGTERM or SIGHUP: calls `onInterrupt` (to report and silence the run),
 * stops everything in `cleanup`, then exits with 128 + the signal number; after `graceMs` it
 * exits anyway. Returns a function that removes the handlers.
 */
export function stopOnSignals(
  cleanup: Cleanup,
  onInterrupt: (signal: string) => void,
  graceMs = 5_000,
): () => void {
  const handlers = Object.entries(SIGNALS).map(([signal, code]) => {
    const handler = () => {
      cleanup.interruptedExitCode = code;
      onInterrupt(signal);
      setTimeout(() => process.exit(code), graceMs).unref();
      void cleanup.run().then(() => process.exit(code));
    };
    process.once(signal, handler);
    return () => process.removeListener(signal, handler);
  });
  return () => handlers.forEach((remove) => remove());
}
