/**
 * A discrete-event virtual clock for the benchmark: `Date.now()` runs at real speed while
 * something is being processed, and jumps forward over idle waits (a delayed SQS message, the
 * request budget's 60-s window). Every reader of `Date.now` in the process sees it: the service
 * (request budget, session calendar, job clock), the Polygon simulator (rate limiter,
 * publication time) and the Lambda contexts built here. Timers (`setTimeout`) stay real.
 */
export interface VirtualClock {
  /** Virtual Unix ms (the patched `Date.now`). */
  now(): number;
  /** Jumps forward to `ms` if it is in the future; returns the virtual ms skipped. */
  advanceTo(ms: number): number;
  /** Total virtual ms skipped by jumps so far. */
  readonly skippedMs: number;
}

/** Patches `Date.now` so that it reads `startMs` now; call before the code under test loads. */
export function installVirtualClock(startMs: number): VirtualClock {
  const realNow = Date.now.bind(Date);
  let offset = startMs - realNow();
  let skipped = 0;
  Date.now = () => realNow() + offset;
  return {
    now: () => Date.now(),
    advanceTo(ms: number) {
      const delta = ms - Date.now();
      if (delta <= 0) return 0;
      offset += delta;
      skipped += delta;
      return delta;
    },
    get skippedMs() {
      return skipped;
    },
  };
}
