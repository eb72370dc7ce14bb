import { callKey, type PolygonCall } from '../domain/refresh-plan';
import type { TickerDataRow } from '../domain/ticker-rows';
import type { Deferrals, JobRuntime, ParkedRows, TickerHistory } from '../ports';
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
  /** The rows taken back from earlier invocations' parked blobs (parked already). */
  private readonly fromParked = new Set<TickerDataRow>();
  /** A continued ticker's first stored session (./steady-read.ts): older bars are dropped. */
  private readonly storedFrom = new Map<string, string>();
  polygonCalls = 0;

  constructor(
    readonly job: PlannedJob,
    /**
     * Each ticker's stored rows, oldest first (phase 1; in a resumed job that parks its rows,
     * filled when every call is done, for the tickers whose stored history the merge continues).
     */
    readonly stored: Map<string, readonly TickerDataRow[]>,
    /** When this invocation started fetching, ISO: the `fetchedAt` of its rows. */
    readonly fetchedAt: string,
    /** The tickers continued from their previous row alone (./steady-read.ts). */
    continued: ReadonlySet<string> = new Set(),
  ) {
    this.doneKeys = [...job.done];
    this.doneSet = new Set(job.done);
    for (const t of continued) {
      const first = stored.get(t)?.[0];
      if (first) this.storedFrom.set(t, first.asOf);
    }
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

  /**
   * Keeps a fetched row (a later bar of the same session replaces an earlier one). A continued
   * ticker's bar of a session before its stored rows is dropped: that session is stored and
   * complete, and merged over the short series it would be rewritten raw, without its indicators
   * (a grouped day fetched for the tickers that missed it brings every ticker's bar).
   */
  remember(row: TickerDataRow): void {
    const from = this.storedFrom.get(row.ticker);
    if (from !== undefined && row.asOf < from) return;
    let m = this.fetched.get(row.ticker);
    if (!m) this.fetched.set(row.ticker, (m = new Map<string, TickerDataRow>()));
    m.set(row.asOf, row);
  }

  /** Whether fetched rows are parked between invocations (not written to `ticker-data` raw). */
  get parking(): boolean {
    return this.job.parked !== undefined;
  }

  /** Adds rows fetched by an earlier invocation (parked) unless a later fetch has the session. */
  rememberParked(rows: Iterable<TickerDataRow>): void {
    for (const row of rows) {
      let m = this.fetched.get(row.ticker);
      if (!m) this.fetched.set(row.ticker, (m = new Map<string, TickerDataRow>()));
      if (!m.has(row.asOf)) {
        m.set(row.asOf, row);
        this.fromParked.add(row);
      }
    }
  }

  /** Every row fetched in this invocation (what it parks), not those taken back from parked blobs. */
  allFetched(): TickerDataRow[] {
    return [...this.fetched.values()].flatMap((m) =>
      [...m.values()].filter((r) => !this.fromParked.has(r)),
    );
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

  /** The job message that resumes from here (listing the rows parked now, if any). */
  resumedJob(parkedId?: string): PlannedJob {
    const parked = this.job.parked && [...this.job.parked, ...(parkedId ? [parkedId] : [])];
    return {
      ...this.job,
      done: [...this.doneKeys],
      deferrals: this.job.deferrals + 1,
      ...(parked ? { parked } : {}),
    };
  }
}

/** Names a job's parked rows: its run, session and first ticker (a job's tickers never change). */
export const jobKey = (job: PlannedJob): string => `${job.runId}#${job.session}#${job.tickers[0]}`;

/**
 * Keeps what this invocation fetched for the next one: parked (the job lists the id), or, for a
 * job that does not park, written to `ticker-data` raw. The id to list, if rows were parked.
 */
async function keepFetched(
  progress: JobProgress,
  deps: { readonly history: TickerHistory; readonly parked?: ParkedRows },
): Promise<string | undefined> {
  if (progress.parking && deps.parked) {
    const rows = progress.allFetched();
    return rows.length > 0 ? deps.parked.park(jobKey(progress.job), rows) : undefined;
  }
  const rows = progress.rowsToPersist();
  if (rows.length > 0) await deps.history.putRows(rows);
  return undefined;
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
    readonly parked?: ParkedRows;
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
  const parkedId = await keepFetched(progress, deps);
  const delaySeconds = Math.min(900, Math.max(1, Math.ceil(delayMs / 1000)));
  await deps.deferrals.send(progress.resumedJob(parkedId), delaySeconds);
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
