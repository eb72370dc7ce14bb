import { mapLimit } from '../../platform/concurrency';
import { MA50_PERIOD } from '../domain/indicators';
import { ownRows, type TickerDataRow } from '../domain/ticker-rows';
import type { ParkedRows, TickerHistory } from '../ports';
import { jobKey, type JobProgress } from './deferral';
import { HISTORY_ROWS, REBUILT_HISTORY_ROWS, RefreshFailedError } from './job';

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

/**
 * The last invocation of a resumed job that parks its rows (every call done), before the splits
 * lookup: reads the stored history of the tickers whose series it continues, i.e. those not
 * rebuilt (a rebuilt ticker's series is its fetched rows alone). The earlier invocations read no
 * history at all: one Query per continued ticker per job instead of one per ticker per invocation.
 */
export async function readContinued(
  progress: JobProgress,
  deps: { readonly history: TickerHistory; readonly concurrency: number },
): Promise<void> {
  const rebuilt = new Set(progress.job.rebuild?.indexes ?? []);
  const continued = progress.job.tickers.filter((_, i) => !rebuilt.has(i));
  for (const [t, rows] of await readHistory(continued, deps.history, deps.concurrency))
    progress.stored.set(t, rows);
}

/**
 * Then, once nothing can defer the job any more, takes back the rows earlier invocations parked
 * (a later fetch of a session wins over an earlier one).
 */
export async function loadParked(
  progress: JobProgress,
  deps: { readonly parked?: ParkedRows },
): Promise<void> {
  const { job } = progress;
  const ids = job.parked ?? [];
  if (ids.length > 0 && !deps.parked)
    throw new RefreshFailedError(`Job of session ${job.session} has parked rows but no store`);
  // Newest first: rows of a later invocation win over an earlier fetch of the same session.
  for (const id of [...ids].reverse())
    progress.rememberParked(await (deps.parked as ParkedRows).load(jobKey(job), id));
}
