import { mapLimit } from '../../platform/concurrency';
import { MA50_PERIOD } from '../domain/indicators';
import { ownRows, type TickerDataRow } from '../domain/ticker-rows';
import type { TickerHistory } from '../ports';
import { HISTORY_ROWS, REBUILT_HISTORY_ROWS } from './job';

/** Phase 1: each ticker's own stored rows, oldest first. */
export async function readHistory(
  tickers: readonly string[],
  history: TickerHistory,
  concurrency: number,
): Promise<Map<string, TickerDataRow[]>> {
  const stored = new Map<string, TickerDataRow[]>();
  await mapLimit(tickers, concurrency, async (t) => {
    const items = await history.latestRows(t, HISTORY_ROWS);
    let rows = ownRows(items);
    // Rows of the old service (one per run) can crowd ours out of the newest HISTORY_ROWS items
    // (e.g. in the weeks after the cut-over); read further back so that MA50 keeps its history.
    if (items.length >= HISTORY_ROWS && rows.length < MA50_PERIOD)
      rows = ownRows(await history.latestRows(t, REBUILT_HISTORY_ROWS));
    stored.set(t, rows);
  });
  return stored;
}

/** A ticker's own rows read far enough back to include a rebuild or an earlier invocation's. */
export async function rereadHistory(
  ticker: string,
  history: TickerHistory,
): Promise<TickerDataRow[]> {
  return ownRows(await history.latestRows(ticker, REBUILT_HISTORY_ROWS));
}
