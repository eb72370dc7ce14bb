import { MA50_PERIOD } from './indicators';
import type { TickerDataRow } from './ticker-rows';

/**
 * The closes a row carries for the next session (`recentCloses`): the last MA50_PERIOD − 1 closes
 * of its history, itself included, oldest first, at full precision. With them and the Wilder
 * averages (`rsiAvgGain`/`rsiAvgLoss`) the next session's RSI(14) and MA50 are computed from the
 * previous row alone, to the same bits as from the full history (same closes, same order of
 * additions), so a steady night reads one row per ticker instead of its history. Pure functions.
 */
export const CLOSE_WINDOW = MA50_PERIOD - 1;

/** The window to store on a row whose history ends with `closes` (none while it is shorter). */
export function windowOf(closes: readonly number[]): number[] | undefined {
  return closes.length >= CLOSE_WINDOW ? closes.slice(closes.length - CLOSE_WINDOW) : undefined;
}

/**
 * Whether `row` can be continued from alone: indicators computed, Wilder averages and a full
 * window of finite closes ending with its own price (a row re-based for a split has none).
 */
export function continuable(row: TickerDataRow | undefined): boolean {
  const w = row?.recentCloses;
  return (
    row !== undefined &&
    row.indicatorVersion !== undefined &&
    typeof row.rsiAvgGain === 'number' &&
    typeof row.rsiAvgLoss === 'number' &&
    Array.isArray(w) &&
    w.length === CLOSE_WINDOW &&
    w.every((c) => typeof c === 'number' && Number.isFinite(c)) &&
    w[CLOSE_WINDOW - 1] === row.price
  );
}

/**
 * The closes missing before `rows[0]` for the MA50 of the first row without indicators (index
 * `first`), taken from the window of the row before it: empty when the rows themselves hold the
 * MA50_PERIOD − 1 closes before it, when that row cannot be continued from, or when its window
 * disagrees with the rows it overlaps (then the rows alone are used, as without a window).
 */
export function closesBefore(rows: readonly TickerDataRow[], first: number): number[] {
  const missing = CLOSE_WINDOW - first;
  const prev = rows[first - 1];
  if (first < 1 || missing <= 0 || !continuable(prev)) return [];
  const window = prev.recentCloses as readonly number[];
  for (let i = 0; i < first; i++) if (window[missing + i] !== rows[i].price) return [];
  return window.slice(0, missing);
}
