import { mapLimit } from '../../platform/concurrency';
import { applySplits, splitsRebasing, type SplitEvent } from '../domain/splits';
import { completeIndicators, type TickerDataRow } from '../domain/ticker-rows';
import type { FinishCursor, JobRuntime, TickerHistory } from '../ports';
import { keepsStored, type JobProgress } from './deferral';
import { writeRows, type Written } from './finish';
import { rereadHistory } from './history';

/** What merging the fetched bars into the stored history gave. */
export interface Merged {
  /** Tickers given new rows. */
  readonly refreshed: string[];
  /** Tickers that already had every row computed. */
  readonly alreadyFresh: number;
  /** Tickers with no row for the session. */
  readonly noData: string[];
  /** The session's close of every ticker that has it. */
  readonly prices: Map<string, { price: number; asOf: string }>;
  readonly rowsWritten: number;
  /** The splits that re-based stored rows. */
  readonly splitsApplied: SplitEvent[];
  /** Whether every row is written now (./finish.ts), or the job goes on in another invocation. */
  readonly finish: Written['status'];
}

/**
 * Phase 4 (every call is done): merges each ticker's fetched rows into its history, puts it on
 * today's share basis (the executed `splits`), completes the indicators and writes the rows that
 * changed (a parked job's a chunk at a time from its finishing cursor, ./finish.ts).
 */
export async function mergeAndWrite(
  progress: JobProgress,
  resumed: { readonly legacyResumed: boolean; readonly parkedResume: boolean },
  splits: readonly SplitEvent[],
  deps: {
    readonly history: TickerHistory;
    readonly runtime: JobRuntime;
    readonly finishCursor?: FinishCursor;
  },
): Promise<Merged> {
  const { job } = progress;
  const refreshed: string[] = [];
  const noData: string[] = [];
  const prices = new Map<string, { price: number; asOf: string }>();
  // Each ticker's rows to write, in message order (the finishing cursor counts tickers).
  const toWrite: TickerDataRow[][] = job.tickers.map(() => []);
  const splitsApplied: SplitEvent[] = [];
  let alreadyFresh = 0;
  const rebuildIndexes = new Set(job.rebuild?.indexes ?? []);
  await mapLimit(job.tickers, deps.runtime.concurrency ?? 16, async (t, i) => {
    const since = rebuildIndexes.has(i) ? job.rebuild?.since : undefined;
    const own = splits.filter((s) => s.ticker === t);
    const stored = progress.stored.get(t) ?? [];
    // After a split, read back as much of the history as a chart may show, to re-base it. A job
    // that wrote raw rows in earlier invocations reads far enough back to include them; a rebuilt
    // ticker with stored rows, far enough to keep those of the same close. A resumed job that
    // parked its rows has them all in memory (a rebuilt ticker's series is its fetched rows).
    const reread =
      own.length > 0 ||
      resumed.legacyResumed ||
      (since !== undefined && !resumed.parkedResume && stored.length > 0);
    const history = reread ? await rereadHistory(t, deps.history) : stored;
    const merged = mergeRows(history, progress.fetchedRows(t), since);
    const latest = merged[merged.length - 1];
    if (!latest || latest.asOf < job.session) {
      noData.push(t);
      return;
    }
    splitsApplied.push(...splitsRebasing(merged, own, progress.fetchedAt));
    const { rows, changed } = applySplits(merged, own, progress.fetchedAt);
    // A rebuilt series starts at `since`: no stored closes from before it.
    const completed = completeIndicators(rows, { storedWindow: since === undefined });
    const written = new Map([...changed, ...completed].map((r) => [r.asOf, r]));
    toWrite[i] = [...written.values()];
    if (completed.length === 0) alreadyFresh++;
    else refreshed.push(t);
    prices.set(t, { price: rows[rows.length - 1].price, asOf: latest.asOf });
  });
  const { status, rowsWritten } = await writeRows(toWrite, job, deps);
  return { refreshed, alreadyFresh, noData, prices, rowsWritten, splitsApplied, finish: status };
}

/**
 * A ticker's rows, oldest first: its history with the fetched rows laid over it (from `since`
 * only, when the history is rebuilt). A re-fetched bar with the same close keeps its computed
 * indicators, so a rerun rewrites nothing.
 */
export function mergeRows(
  history: readonly TickerDataRow[],
  fetched: Iterable<TickerDataRow>,
  since?: string,
): TickerDataRow[] {
  const merged = new Map(history.map((r) => [r.asOf, r]));
  for (const row of fetched) if (!keepsStored(merged.get(row.asOf), row)) merged.set(row.asOf, row);
  const rows = [...merged.values()].sort((a, b) => (a.asOf < b.asOf ? -1 : 1));
  return since === undefined ? rows : rows.filter((r) => r.asOf >= since);
}
