/**
 * The clock of `npm start -- --nights N`: every night after the first runs at the 04:30 UTC
 * trigger that follows the next NYSE session (TUE–SAT, holidays skipped), while the bundles,
 * the simulators, dynalite and SQS keep running in this one process. Like the fault suite's
 * 7-night test (test/faults/track-record-nights.faults.test.ts, which fakes `Date` with Jest),
 * only `Date` is shifted, by a constant offset that changes only between nights; it keeps
 * running at real speed, timers stay real. Everything in the process reads the same clock: the
 * handlers (`Date.now()` decides the session to refresh), the Polygon simulator's
 * `compressedClock` (it follows `Date.now()`), the xAI simulator and the local SQS.
 * Not a library (e.g. @sinonjs/fake-timers): it is not a declared dependency, and a constant
 * offset on `Date` is all that is needed.
 */
import {
  latestCompletedSession,
  nextTradingDay,
} from '../../lambdas/market-data/domain/market-calendar';

/** The UTC time of day of the nightly trigger (EventBridge `cron(30 4 ? * TUE-SAT *)`). */
export const NIGHT_TRIGGER_UTC = '04:30:00';

const DAY_MS = 86_400_000;

/** The instant of the night after `session`'s next session: 04:30 UTC of the day after it. */
export function nextNightAt(session: string): number {
  const next = nextTradingDay(session);
  return Date.parse(`${next}T${NIGHT_TRIGGER_UTC}Z`) + DAY_MS;
}

/** The session the night at `nowMs` refreshes (the latest completed one). */
export const sessionAt = (nowMs: number): string => latestCompletedSession(nowMs);

/** A global `Date` shifted by an offset; `restore` puts the real one back. */
export interface ShiftedClock {
  /** Moves the clock to `instantMs` (it keeps running from there). */
  jumpTo(instantMs: number): void;
  /** The offset from the real clock, ms. */
  offsetMs(): number;
  restore(): void;
}

/** Replaces the global `Date` with one shifted by an offset (0 until {@link ShiftedClock.jumpTo}). */
export function installShiftedClock(): ShiftedClock {
  const RealDate = Date;
  let offset = 0;
  const now = () => RealDate.now() + offset;
  // A subclass, so `instanceof Date`, `Date.parse`, `Date.UTC` and the prototype stay the real ones.
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now());
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now();
    }
  }
  // `Date()` called as a function returns a string of the current time; keep that true too.
  const shifted = new Proxy(ShiftedDate, {
    apply: () => new RealDate(now()).toString(),
  }) as unknown as DateConstructor;
  globalThis.Date = shifted;
  return {
    jumpTo(instantMs) {
      offset = instantMs - RealDate.now();
    },
    offsetMs: () => offset,
    restore() {
      if (globalThis.Date === shifted) globalThis.Date = RealDate;
    },
  };
}
