import type { TickerDataRow } from '../domain/ticker-rows';
import type { FinishCursor, JobRuntime, TickerHistory } from '../ports';
import { jobKey } from './deferral';
import type { PlannedJob } from './plan';

/**
 * Chunked finishing: the last phase of a parked job writes its rows (every ticker's, with their
 * indicators: ~110 per new ticker on a first night, 1.1 M rows at 10,000 tickers) a chunk at a
 * time, saving the finishing cursor after each chunk, and stops while WRITE_STOP_MS and the
 * repricing still fit in the invocation; the job is then re-enqueued (deferred for 'time') and the
 * next invocation continues at the cursor. Only the invocation that writes the last chunk reprices
 * and reports the job done, so the refresh marker and the metrics never see a partial night.
 */

/**
 * Rows written between two cursor saves: what a redelivered invocation (killed mid-finish) or a
 * duplicate message can write a second time. 4 % of the job's rows (so one such rewrite stays
 * within rows written ≤ 1.05 × distinct rows), at least FINISH_MIN_CHUNK_ROWS (a small job saves
 * its cursor a few times, not once per ticker) and at most FINISH_CHUNK_ROWS (~5 s at the
 * bench's ~2,000 rows/s; 110 cursor updates for a 10,000-ticker first night).
 */
export const FINISH_CHUNK_ROWS = 10_000;
const FINISH_MIN_CHUNK_ROWS = 100;
const CHUNK_SHARE = 0.04;

/** The chunk size of a job writing `totalRows` rows. */
export const chunkRows = (totalRows: number): number =>
  Math.min(FINISH_CHUNK_ROWS, Math.max(FINISH_MIN_CHUNK_ROWS, Math.ceil(totalRows * CHUNK_SHARE)));

/**
 * Time left in the invocation below which no chunk is started: 20 % of the 900-s timeout (no
 * invocation should pass 80 %), a chunk, and parking and re-enqueueing or the final bookkeeping.
 */
const WRITE_STOP_MS = 200_000;
/** Repricing and the no-data memo after the last chunk, per ticker (as fetch.ts's reserve). */
const AFTER_WRITE_MS_PER_TICKER = 10;

/** The time left below which a job of `tickers` tickers starts no further chunk. */
export const writeStopMs = (tickers: number): number =>
  WRITE_STOP_MS + tickers * AFTER_WRITE_MS_PER_TICKER;

/** The tickers `[from, to)` whose rows make the next chunk (at least one ticker). */
export function nextChunk(
  rowsByTicker: readonly (readonly TickerDataRow[])[],
  from: number,
  maxRows: number,
): { to: number; rows: TickerDataRow[] } {
  const rows: TickerDataRow[] = [];
  let to = from;
  while (
    to < rowsByTicker.length &&
    (to === from || rows.length + rowsByTicker[to].length <= maxRows)
  )
    rows.push(...rowsByTicker[to++]);
  return { to, rows };
}

/** What writing the rows did: all written, paused for time, or stopped for another invocation. */
export interface Written {
  readonly status: 'complete' | 'paused' | 'superseded';
  /** Rows this invocation wrote. */
  readonly rowsWritten: number;
  /** Tickers (in message order) with every row written when this invocation stopped. */
  readonly next: number;
}

/**
 * Writes each ticker's rows (`rowsByTicker[i]` for `job.tickers[i]`). Without a cursor (a job
 * that does not park) all at once; with one, from the saved cursor, a chunk at a time, at least
 * one chunk per invocation (so that a job always moves on), until the time left is below
 * writeStopMs.
 */
export async function writeRows(
  rowsByTicker: readonly (readonly TickerDataRow[])[],
  job: PlannedJob,
  deps: {
    readonly history: TickerHistory;
    readonly runtime: Pick<JobRuntime, 'remainingMs'>;
    readonly finishCursor?: FinishCursor;
  },
): Promise<Written> {
  const total = rowsByTicker.length;
  if (!deps.finishCursor) {
    const rows = rowsByTicker.flat();
    if (rows.length > 0) await deps.history.putRows(rows);
    return { status: 'complete', rowsWritten: rows.length, next: total };
  }
  const key = jobKey(job);
  const stopMs = writeStopMs(total);
  const maxRows = chunkRows(rowsByTicker.reduce((n, rows) => n + rows.length, 0));
  let from = await deps.finishCursor.load(key);
  let rowsWritten = 0;
  for (let chunks = 0; from < total; chunks++) {
    if (chunks > 0 && deps.runtime.remainingMs() < stopMs)
      return { status: 'paused', rowsWritten, next: from };
    const { to, rows } = nextChunk(rowsByTicker, from, maxRows);
    if (rows.length > 0) await deps.history.putRows(rows);
    rowsWritten += rows.length;
    if (!(await deps.finishCursor.advance(key, from, to)))
      return { status: 'superseded', rowsWritten, next: to };
    from = to;
  }
  return { status: 'complete', rowsWritten, next: total };
}
