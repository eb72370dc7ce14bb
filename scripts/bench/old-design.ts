/**
 * The replaced service's figures, computed from its rules (SYSTEM.md, "Defects of the old
 * service"): 3 Polygon calls per ticker (price, RSI, SMA), the n-th ticker's message delayed by
 * n × 75 s, and SQS refusing delays over 900 s, so only tickers 0…12 (13 of them) were ever sent.
 */
export const OLD_CALLS_PER_TICKER = 3;
export const OLD_STAGGER_S = 75;
export const SQS_MAX_DELAY_S = 900;
/** Tickers whose delay n × 75 s is at most 900 s: n = 0 … 12. */
export const OLD_CAP = Math.floor(SQS_MAX_DELAY_S / OLD_STAGGER_S) + 1;

export interface OldNight {
  readonly calls: number;
  readonly refreshed: number;
  readonly dropped: number;
  /** Seconds until the last refreshed ticker's message is delivered ((n − 1) × 75 s). */
  readonly lastRefreshS: number;
  /** Most calls in any 60-s window: one ticker's 3 calls (the next ticker comes 75 s later). */
  readonly maxInWindow: number;
}

/** The same every night: the old service kept no history, so a steady night costs the same. */
export function oldDesignNight(tickers: number): OldNight {
  const refreshed = Math.min(tickers, OLD_CAP);
  return {
    calls: OLD_CALLS_PER_TICKER * refreshed,
    refreshed,
    dropped: tickers - refreshed,
    lastRefreshS: (refreshed - 1) * OLD_STAGGER_S,
    maxInWindow: refreshed > 0 ? OLD_CALLS_PER_TICKER : 0,
  };
}
