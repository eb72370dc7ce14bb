import { clip } from './text';

/**
 * The one symbol rule of both features (the refresh's fan-out and the analysis' prompt and
 * answer): 1-10 ASCII letters, digits, `.` or `-`, starting with a letter, compared upper-cased.
 * The characters are checked before upper-casing: `"ıbm".toUpperCase()` is `"IBM"` and
 * `"ß".toUpperCase()` is `"SS"`, so a symbol typed in another script must not become someone
 * else's ticker. Pure.
 */

/** A normalised ticker. */
export const TICKER_PATTERN = /^[A-Z][A-Z0-9.-]{0,9}$/;

/** A symbol as stored (any case), before it is upper-cased: ASCII only. */
const RAW_TICKER_PATTERN = /^[A-Za-z][A-Za-z0-9.-]{0,9}$/;

/** Echoed values in reasons are clipped to this many characters. */
const ECHO_MAX = 100;

/** Trims, checks (ASCII first) and upper-cases a symbol; says what was wrong otherwise. */
export function normaliseTicker(
  raw: unknown,
): { ok: true; ticker: string } | { ok: false; reason: string } {
  if (typeof raw !== 'string')
    return { ok: false, reason: `not a string (${clip(String(JSON.stringify(raw)), ECHO_MAX)})` };
  const trimmed = raw.trim();
  if (!RAW_TICKER_PATTERN.test(trimmed)) {
    return {
      ok: false,
      reason: `${JSON.stringify(clip(raw, ECHO_MAX))} is not a ticker (1-10 ASCII characters A-Z, 0-9, ".", "-", starting with a letter)`,
    };
  }
  return { ok: true, ticker: trimmed.toUpperCase() };
}

/** The form tickers are compared in: the normalised ticker, or `''` for a symbol that is not one. */
export function tickerKey(raw: string): string {
  const t = normaliseTicker(raw);
  return t.ok ? t.ticker : '';
}
