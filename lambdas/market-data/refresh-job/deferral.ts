import { callKey, type PolygonCall } from '../domain/refresh-plan';
import type { TickerDataRow } from '../domain/ticker-rows';
import type { Deferrals, JobRuntime, TickerHistory } from '../ports';
import { MAX_DEFERRALS, RefreshFailedError, type DeferReason, type RefreshOutcome } from './job';
import type { PlannedJob } from './plan';

/**
 * What the job has done so far in this invocation: the calls made (`done`, kept in the job
 * message), the rows they brought, and the count of calls. One object instead of mutable locals
 * shared by closures, so the fetch loop, the deferral and the merge read the same state.
 */
export class JobProgress {
  private readonly doneKeys: string[];
  private readonly doneSet: Set<string>;
  private readonly fetched = new Map<string, Map<string, TickerDataRow>>();
  polygonCalls = 0;

  constructor(
    readonly job: PlannedJob,
    /** Each ticker's stored rows, oldest first (phase 1). */
    readonly stored: ReadonlyMap<string, readonly TickerDataRow[]>,
    /** When this invocation started fetching, ISO: the `fetchedAt` of its rows. */
    readonly fetchedAt: string,
  ) {
    this.doneKeys = [...job.done];
    this.doneSet = new Set(job.done);
  }

  isDone(call: PolygonCall): boolean {
    return this.doneSet.has(callKey(call));
  }

  markDone(call: PolygonCall): void {
    const key = callKey(call);
    if (this.doneSet.has(key)) return;
    this.doneSet.add(key);
    this.doneKeys.push(key);
  }

  /** The planned calls not done yet, in plan order. */
  pendingCalls(): PolygonCall[] {
    return this.job.plan.calls.filter((c) => !this.isDone(c));
  }

  /** Keeps a fetched row (a later bar of the same session replaces an earlier one). */
  remember(row: TickerDataRow): void {
    let m = this.fetched.get(row.ticker);
    if (!m) this.fetched.set(row.ticker, (m = new Map<string, TickerDataRow>()));
    m.set(row.asOf, row);
  }

  fetchedRows(ticker: string): Iterable<TickerDataRow> {
    return this.fetched.get(ticker)?.values() ?? [];
  }

  /**
   * The fetched rows to persist for the resumed job: raw, but never over a stored row that
   * already has its indicators for the same close (readers would see them vanish until the job
   * finishes).
   */
  rowsToPersist(): TickerDataRow[] {
    return [...this.fetched.entries()].flatMap(([t, m]) => {
      const have = new Map((this.stored.get(t) ?? []).map((r) => [r.asOf, r]));
      return [...m.values()].filter((r) => !keepsStored(have.get(r.asOf), r));
    });
  }

  /** The job message that resumes from here. */
  resumedJob(): PlannedJob {
    return { ...this.job, done: [...this.doneKeys], deferrals: this.job.deferrals + 1 };
  }
}

/** Whether a fetched bar leaves the stored row of its session as it is (same close, computed). */
export function keepsStored(existing: TickerDataRow | undefined, fetched: TickerDataRow): boolean {
  return (
    existing !== undefined &&
    existing.price === fetched.price &&
    existing.indicatorVersion !== undefined
  );
}

/**
 * Pauses the job: persists what it fetched and re-enqueues it after `delayMs` (1 to 900 s), or
 * fails it once it has been deferred MAX_DEFERRALS times (it then reaches the DLQ, loudly).
 */
export async function deferJob(
  progress: JobProgress,
  reason: DeferReason,
  delayMs: number,
  deps: {
    readonly history: TickerHistory;
    readonly deferrals: Deferrals;
    readonly runtime: Pick<JobRuntime, 'log'>;
  },
): Promise<RefreshOutcome> {
  const { job, polygonCalls } = progress;
  if (job.deferrals + 1 > MAX_DEFERRALS) {
    throw new RefreshFailedError(
      `Refresh of session ${job.session} deferred ${job.deferrals} times (last: ${reason}); giving up so the job reaches the DLQ`,
    );
  }
  const rows = progress.rowsToPersist();
  if (rows.length > 0) await deps.history.putRows(rows);
  const delaySeconds = Math.min(900, Math.max(1, Math.ceil(delayMs / 1000)));
  await deps.deferrals.send(progress.resumedJob(), delaySeconds);
  const remainingCalls = progress.pendingCalls().length;
  deps.runtime.log('info', 'Refresh deferred', {
    reason,
    delaySeconds,
    polygonCalls,
    remainingCalls,
    session: job.session,
  });
  return { status: 'deferred', reason, delaySeconds, polygonCalls, remainingCalls };
}
