import type {
  Deferrals,
  FinishCursor,
  HeldPositions,
  JobRuntime,
  NoDataMemo,
  ParkedRows,
  PositionPrices,
  SessionBars,
  SplitEvents,
  TickerHistory,
} from '../ports';
import { deferJob, JobProgress } from './deferral';
import { fetchPending } from './fetch';
import { loadParked, readContinued } from './history';
import type { RefreshJob, RefreshOutcome } from './job';
import type { TickerDataRow } from '../domain/ticker-rows';
import { mergeAndWrite, type Merged } from './merge';
import { recordNoData } from './no-data';
import { planJob } from './plan';
import { learnSplits, logSplits } from './splits';
import { readStoredRows } from './steady-read';

export * from './job';

/** The refresh job's ports (see ../ports.ts); `noData` is optional. */
export interface RefreshJobDeps {
  readonly bars: SessionBars;
  readonly history: TickerHistory;
  readonly noData?: NoDataMemo;
  readonly positions: PositionPrices;
  readonly deferrals: Deferrals;
  readonly runtime: JobRuntime;
  /** Polygon's splits; without it no split is learnt (stored history is never re-based). */
  readonly splits?: SplitEvents;
  /** Counts the positions holding a split ticker for the log; optional. */
  readonly held?: HeldPositions;
  /**
   * Where a deferred job parks what it fetched; without it (or for a job queued before it
   * existed) the fetched rows are written to `ticker-data` raw and re-read when the job ends.
   */
  readonly parked?: ParkedRows;
  /**
   * Where a parked job's finishing invocations note how far they have written; without it a
   * parked job writes all its rows in one invocation.
   */
  readonly finishCursor?: FinishCursor;
}

/**
 * Another invocation of the same job (a duplicate message) moved the finishing cursor first: it
 * goes on writing and reports the job; this one stops without re-enqueueing anything.
 */
function superseded(progress: JobProgress, deps: Pick<RefreshJobDeps, 'runtime'>): RefreshOutcome {
  const { job, polygonCalls } = progress;
  deps.runtime.log('warn', 'Refresh finishing taken over by another invocation of the job', {
    session: job.session,
    runId: job.runId,
  });
  return {
    status: 'deferred',
    reason: 'superseded',
    delaySeconds: 0,
    polygonCalls,
    remainingCalls: 0,
  };
}

/** Every row is written: the tickers are fresh from here on (what the freshness target measures). */
function logWritten(merged: Merged, session: string, runtime: Pick<JobRuntime, 'log'>): void {
  runtime.log('info', 'Ticker rows written', {
    session,
    rows: merged.rowsWritten,
    refreshed: merged.refreshed.length,
  });
  if (merged.noData.length > 0)
    runtime.log('warn', 'Tickers without data for the session', {
      session,
      count: merged.noData.length,
      tickers: merged.noData.slice(0, 50),
    });
}

/**
 * Runs (or resumes) one refresh job: plans the cheapest Polygon calls once, makes them while the
 * shared budget and the invocation's time allow, and otherwise persists what it fetched and
 * re-enqueues itself with a delay (never sleeping, never burning a receive count). When every
 * call is done, it completes the indicators, writes the rows (a parked job's in chunks, over as
 * many invocations as they take: ./finish.ts) and reprices the positions.
 */
export async function runRefreshJob(
  input: RefreshJob,
  deps: RefreshJobDeps,
): Promise<RefreshOutcome> {
  const fetchedAt = new Date(deps.runtime.now()).toISOString();
  const concurrency = deps.runtime.concurrency ?? 16;
  // A resumed job that parks its rows reads no history until every call is done.
  const parkedResume = input.plan !== undefined && input.parked !== undefined;
  const { stored, continued } = parkedResume
    ? { stored: new Map<string, TickerDataRow[]>(), continued: new Set<string>() }
    : await readStoredRows(input, { history: deps.history, concurrency, now: deps.runtime.now });
  const planned = await planJob(input, stored, deps);
  const { knownNoData } = planned;
  // A new job parks its fetched rows when there is a store (a job queued before keeps writing them).
  const job = deps.parked && !input.plan ? { ...planned.job, parked: [] } : planned.job;
  const progress = new JobProgress(job, stored, fetchedAt, continued);
  const paused = await fetchPending(progress, deps);
  if (paused) return paused;
  if (parkedResume) await readContinued(progress, { ...deps, concurrency });
  const splits = await learnSplits(progress, deps);
  if ('reason' in splits) return deferJob(progress, splits.reason, splits.delayMs, deps);
  // After the lookup: a deferral there parks only this invocation's rows.
  if (parkedResume) await loadParked(progress, deps);

  const merged = await mergeAndWrite(
    progress,
    { legacyResumed: input.done.length > 0 && !progress.parking, parkedResume },
    splits,
    { ...deps, finishCursor: progress.parking ? deps.finishCursor : undefined },
  );
  if (merged.finish === 'paused') return deferJob(progress, 'time', 1_000, deps);
  if (merged.finish === 'superseded') return superseded(progress, deps);
  logWritten(merged, job.session, deps.runtime);
  const newlyNoData = merged.noData.filter((t) => !knownNoData.has(t));
  await recordNoData(newlyNoData, job.session, merged.prices.size > 0, deps);
  const positions = await deps.positions.reprice(merged.prices);
  await logSplits(merged.splitsApplied, deps);
  return {
    status: 'done',
    session: job.session,
    strategy: job.plan.strategy,
    refreshed: merged.refreshed.sort(),
    alreadyFresh: merged.alreadyFresh,
    noData: merged.noData.sort(),
    polygonCalls: progress.polygonCalls,
    rowsWritten: merged.rowsWritten,
    splitsApplied: merged.splitsApplied.length,
    positions,
  };
}
