import { isTradingDay } from '../domain/market-calendar';
import { RANGE_LOOKBACK_DAYS, type PolygonCall } from '../domain/refresh-plan';
import { rowFromBar, type BarLike } from '../domain/ticker-rows';
import { UpstreamError } from '../../platform/upstream-error';
import { errorText } from '../../platform/text';
import type { Deferrals, JobRuntime, SessionBars, TickerHistory } from '../ports';
import { RefreshFailedError, type DeferReason, type RefreshOutcome } from './job';
import { deferJob, type JobProgress } from './deferral';
import type { PlannedJob } from './plan';

/**
 * Time kept for finishing (restoring parked rows, indicators, writes, repricing) before the
 * invocation ends, from the work left: FINISH_BASE_MS, plus the rows the job will write at
 * FINISH_ROWS_PER_S, plus FINISH_MS_PER_TICKER per ticker (a history Query and the repricing of
 * its positions). The rates are measured by `npm run bench` on its slowest engine (dynalite on 2
 * shared cores: ~2,000 rows/s written at 16 requests in flight); DynamoDB itself is faster. Capped
 * at FINISH_RESERVE_MAX_MS so that an invocation always has time left to make calls.
 */
const FINISH_BASE_MS = 30_000;
const FINISH_ROWS_PER_S = 2_000;
const FINISH_MS_PER_TICKER = 10;
const FINISH_RESERVE_MAX_MS = 600_000;
/** Time allowed for one Polygon call (with its retries) before the reserve. */
const CALL_MS = 30_000;
/** Rows a per-ticker history call brings (RANGE_LOOKBACK_DAYS of sessions). */
const RANGE_ROWS = Math.ceil((RANGE_LOOKBACK_DAYS * 252) / 365);

/** The finishing reserve of a job (see FINISH_BASE_MS): scales with its tickers and rows. */
export function finishReserveMs(job: PlannedJob): number {
  const rebuilt = job.rebuild?.indexes.length ?? 0;
  const groupedDays = job.plan.calls.filter((c) => c.kind === 'grouped').length;
  const rowsPerRebuilt = job.plan.strategy === 'grouped' ? groupedDays : RANGE_ROWS;
  const rows = rebuilt * rowsPerRebuilt + (job.tickers.length - rebuilt) * Math.max(1, groupedDays);
  const ms =
    FINISH_BASE_MS + (rows / FINISH_ROWS_PER_S) * 1000 + job.tickers.length * FINISH_MS_PER_TICKER;
  return Math.min(FINISH_RESERVE_MAX_MS, Math.ceil(ms));
}

export interface FetchDeps {
  readonly bars: SessionBars;
  readonly history: TickerHistory;
  readonly deferrals: Deferrals;
  readonly runtime: JobRuntime;
}

export type Pause = { readonly reason: DeferReason; readonly delayMs: number };

/**
 * Phase 3: makes the pending calls while the shared budget and the invocation's time allow.
 * Returns the deferred outcome when the job paused, or nothing when every call is done.
 */
export async function fetchPending(
  progress: JobProgress,
  deps: FetchDeps,
): Promise<RefreshOutcome | undefined> {
  const { job } = progress;
  const tickers = new Set(job.tickers);
  const pending = progress.pendingCalls();
  const reserveMs = finishReserveMs(job);
  for (const call of pending) {
    if (progress.isDone(call)) continue;
    if (deps.runtime.remainingMs() < reserveMs + CALL_MS)
      return deferJob(progress, 'time', 1_000, deps);
    const bars = await fetchCall(call, deps);
    if ('reason' in bars) return deferJob(progress, bars.reason, bars.delayMs, deps);
    progress.polygonCalls++;
    if (
      call.kind === 'grouped' &&
      call.date === job.session &&
      bars.length === 0 &&
      isTradingDay(call.date)
    ) {
      // A trading day with no bars yet: Polygon has not published the session.
      return deferJob(progress, 'not-published', 900_000, deps);
    }
    const source = call.kind === 'grouped' ? 'polygon-grouped' : 'polygon-range';
    for (const bar of bars) {
      const ticker = call.kind === 'range' ? call.ticker : bar.ticker;
      if (tickers.has(ticker))
        progress.remember(rowFromBar(ticker, bar, source, progress.fetchedAt));
    }
    progress.markDone(call);
    if (call.kind === 'grouped' && call.date === job.session) skipUntraded(bars, pending, progress);
  }
  return undefined;
}

/**
 * The session's grouped day lists every traded symbol: a history call for a ticker missing from
 * it would find nothing new (unknown, delisted, untraded), so it is not spent.
 */
function skipUntraded(
  bars: readonly BarLike[],
  pending: readonly PolygonCall[],
  progress: JobProgress,
): void {
  const traded = new Set(bars.map((b) => b.ticker));
  for (const c of pending) if (c.kind === 'range' && !traded.has(c.ticker)) progress.markDone(c);
}

/** Makes one call: its bars, or why the job must pause (an error that waiting cannot fix throws). */
async function fetchCall(
  call: PolygonCall,
  deps: Pick<FetchDeps, 'bars'>,
): Promise<readonly BarLike[] | Pause> {
  try {
    return call.kind === 'grouped'
      ? await deps.bars.groupedDaily(call.date)
      : await deps.bars.dailyRange(call.ticker, call.from, call.to);
  } catch (err) {
    const pause = pauseFor(err);
    if (pause) return pause;
    throw new RefreshFailedError(`Polygon ${describeCall(call)} failed: ${errorText(err)}`);
  }
}

/**
 * The one mapping of an upstream failure (a PolygonError, or the request budget's
 * BudgetExhaustedError) to the job's pause; nothing for a failure that waiting cannot fix (auth,
 * bad-response, other, or an error that is no upstream failure at all).
 */
export function pauseFor(err: unknown): Pause | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  switch (err.kind) {
    case 'budget':
      return { reason: 'budget', delayMs: err.retryAfterMs ?? 60_000 };
    case 'rate-limited':
      return { reason: 'rate-limited', delayMs: err.retryAfterMs ?? 60_000 };
    case 'not-available':
      return { reason: 'not-published', delayMs: 900_000 };
    case 'server':
    case 'network':
      return { reason: 'upstream-error', delayMs: 300_000 };
    default:
      return undefined;
  }
}

function describeCall(c: PolygonCall): string {
  return c.kind === 'grouped'
    ? `grouped daily ${c.date}`
    : `daily range ${c.ticker} ${c.from}..${c.to}`;
}
