import { latestCompletedSession } from './market-calendar';

/** What the freshness check concludes. */
export interface FreshnessVerdict {
  /** The latest completed New York session at `now` (weekends and NYSE holidays skipped). */
  readonly expectedSession: string;
  /** The newest session a refresh completed for, if any run was recorded. */
  readonly lastRefreshedSession?: string;
  /** 1 when the expected session has not been refreshed, else 0 (the alarm's metric). */
  readonly stale: 0 | 1;
}

/**
 * Decides whether market data is stale. Holiday-aware by construction: on the morning after a
 * holiday the latest completed session is the one before it, which was refreshed the night
 * before, so nothing pages. The check runs at the configured deadline hour, so "not refreshed by
 * the deadline" is the same as "not refreshed now". Pure.
 */
export function checkFreshness(
  nowMs: number,
  lastRefreshedSession: string | undefined,
): FreshnessVerdict {
  const expectedSession = latestCompletedSession(nowMs);
  const stale =
    lastRefreshedSession === undefined || lastRefreshedSession < expectedSession ? 1 : 0;
  return { expectedSession, lastRefreshedSession, stale };
}
