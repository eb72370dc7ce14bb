import { z } from 'zod';
import { mapLimit } from '../platform/concurrency';
import { MA50_PERIOD } from './domain/indicators';
import { isTradingDay } from './domain/market-calendar';
import {
  callKey,
  planRefresh,
  type PolygonCall,
  type RefreshPlan,
  type StoredState,
} from './domain/refresh-plan';
import {
  completeIndicators,
  ownRows,
  rowFromBar,
  type BarLike,
  type TickerDataRow,
} from './domain/ticker-rows';

/**
 * Most tickers one job message carries: 10,000. At 10 characters each (the longest a ticker may
 * be) a new job is 130,130 bytes and the largest deferred one (every ticker rebuilt, its grouped
 * backfill done but for one call) 185,748 bytes, within SQS's 262,144 (MAX_MESSAGE_BYTES): see
 * test/faults/limits.faults.test.ts, case I01. More tickers are split into more jobs.
 */
export const MAX_TICKERS_PER_JOB = 10_000;
/** Deferrals after which a job fails instead (≈ 12 h of 900-s waits): it goes to the DLQ, loudly. */
export const MAX_DEFERRALS = 48;
/** Rows of history read per ticker: MA50 needs 49 before the new one, with room for old rows. */
export const HISTORY_ROWS = 80;
/** Rows read per ticker whose history was (re)built in this job. */
export const REBUILT_HISTORY_ROWS = 400;

const polygonCall = z.union([
  z.object({ kind: z.literal('grouped'), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }).strict(),
  z
    .object({ kind: z.literal('range'), ticker: z.string(), from: z.string(), to: z.string() })
    .strict(),
]);

/** The body of a `ticker-processing-queue` message: one refresh job. */
export const refreshJobSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('refresh'),
    runId: z.string().min(1).max(100),
    session: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    tickers: z
      .array(z.string().regex(/^[A-Z][A-Z0-9.-]{0,9}$/))
      .min(1)
      .max(MAX_TICKERS_PER_JOB),
    /** Decided on the first attempt and kept, so retries follow it instead of re-planning. */
    plan: z
      .object({ strategy: z.enum(['none', 'grouped', 'range']), calls: z.array(polygonCall) })
      .optional(),
    /**
     * Tickers whose history is rebuilt from `since` (they were new or too far behind), as
     * indexes into `tickers`: at 10,000 new 10-character symbols a ticker→date map would push a
     * deferred job over SQS's 256 KiB, indexes keep it near 190 KiB.
     */
    rebuild: z
      .object({
        since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        indexes: z.array(
          z
            .number()
            .int()
            .min(0)
            .max(MAX_TICKERS_PER_JOB - 1),
        ),
      })
      .strict()
      .optional(),
    done: z.array(z.string()).default([]),
    deferrals: z.number().int().min(0).default(0),
  })
  .strict();

export type RefreshJob = z.infer<typeof refreshJobSchema>;

/** Why the job paused: it is re-enqueued with a delay and resumes where it stopped. */
export type DeferReason = 'budget' | 'rate-limited' | 'not-published' | 'upstream-error' | 'time';

/** The upstream errors the job distinguishes (the Polygon client's error classes map onto these). */
export interface UpstreamErrorInfo {
  readonly kind:
    | 'rate-limited'
    | 'not-available'
    | 'auth'
    | 'server'
    | 'network'
    | 'bad-response'
    | 'request'
    | 'budget'
    | 'other';
  readonly retryAfterMs?: number;
  readonly message: string;
}

export interface RefreshJobDeps {
  readonly fetchGrouped: (date: string) => Promise<readonly BarLike[]>;
  readonly fetchRange: (ticker: string, from: string, to: string) => Promise<readonly BarLike[]>;
  /** Classifies an error thrown by the two fetchers (or by the request budget inside them). */
  readonly classify: (err: unknown) => UpstreamErrorInfo;
  readonly latestRows: (ticker: string, limit: number) => Promise<Record<string, unknown>[]>;
  readonly putRows: (rows: readonly TickerDataRow[]) => Promise<unknown>;
  /** Re-enqueues the job after `delaySeconds` (≤ 900). */
  readonly defer: (job: RefreshJob, delaySeconds: number) => Promise<void>;
  /** Writes fresh prices onto positions. */
  readonly reprice: (
    prices: ReadonlyMap<string, { price: number; asOf: string }>,
  ) => Promise<RepriceSummary>;
  readonly now: () => number;
  /** Time left in the invocation, ms. */
  readonly remainingMs: () => number;
  readonly log: (
    level: 'info' | 'warn' | 'error',
    message: string,
    data?: Record<string, unknown>,
  ) => void;
  /** Parallel DynamoDB requests. @default 16 */
  readonly concurrency?: number;
  /**
   * No-data memo, read when planning: which of `tickers` an earlier run already found without
   * data for `session`. They are planned as needing nothing, so re-running a night that is
   * complete spends no call on an unknown or untraded symbol. Optional: without it (or when it
   * fails) every ticker is planned.
   */
  readonly knownNoData?: (
    tickers: readonly string[],
    session: string,
  ) => Promise<ReadonlySet<string>>;
  /** Records the tickers a finished job found without data for `session` (see `knownNoData`). */
  readonly recordNoData?: (tickers: readonly string[], session: string) => Promise<void>;
}

export interface RepriceSummary {
  readonly updated: number;
  readonly deleted: number;
  readonly moved: number;
  readonly conflicts: number;
}

export type RefreshOutcome =
  | {
      readonly status: 'done';
      readonly session: string;
      readonly strategy: RefreshPlan['strategy'];
      readonly refreshed: string[];
      readonly alreadyFresh: number;
      readonly noData: string[];
      readonly polygonCalls: number;
      readonly rowsWritten: number;
      readonly positions: RepriceSummary;
    }
  | {
      readonly status: 'deferred';
      readonly reason: DeferReason;
      readonly delaySeconds: number;
      readonly polygonCalls: number;
      readonly remainingCalls: number;
    };

/** Thrown for a job that cannot succeed by waiting (bad key, bad request, too many deferrals). */
export class RefreshFailedError extends Error {
  override readonly name = 'RefreshFailedError';
}

/** Time kept for finishing (indicators, writes, repricing) before the invocation ends. */
const FINISH_RESERVE_MS = 120_000;

/**
 * Runs (or resumes) one refresh job: plans the cheapest Polygon calls once, makes them while the
 * shared budget and the invocation's time allow, and otherwise persists what it fetched and
 * re-enqueues itself with a delay (never sleeping, never burning a receive count). When every
 * call is done, it completes the indicators, writes the rows and reprices the positions.
 */
export async function runRefreshJob(
  input: RefreshJob,
  deps: RefreshJobDeps,
): Promise<RefreshOutcome> {
  const limit = deps.concurrency ?? 16;
  const job: RefreshJob = { ...input, done: [...input.done] };
  const resumed = input.done.length > 0;
  const fetchedAt = new Date(deps.now()).toISOString();
  const tickerSet = new Set(job.tickers);

  const stored = new Map<string, TickerDataRow[]>();
  await mapLimit(job.tickers, limit, async (t) => {
    const items = await deps.latestRows(t, HISTORY_ROWS);
    let rows = ownRows(items);
    // Rows of the old service (one per run) can crowd ours out of the newest HISTORY_ROWS items
    // (e.g. in the weeks after the cut-over); read further back so that MA50 keeps its history.
    if (items.length >= HISTORY_ROWS && rows.length < MA50_PERIOD)
      rows = ownRows(await deps.latestRows(t, REBUILT_HISTORY_ROWS));
    stored.set(t, rows);
  });

  // Tickers an earlier run of this session found without data (see `knownNoData`).
  let knownNoData: ReadonlySet<string> = new Set<string>();
  if (!job.plan) {
    const states: StoredState[] = job.tickers.map((ticker) => {
      const rows = stored.get(ticker) ?? [];
      const last = rows[rows.length - 1];
      return {
        ticker,
        lastSession: last?.asOf,
        hasState: last?.rsiAvgGain !== undefined && last?.rsiAvgLoss !== undefined,
      };
    });
    const lacking = states
      .filter((s) => s.lastSession === undefined || s.lastSession < job.session)
      .map((s) => s.ticker);
    if (deps.knownNoData && lacking.length > 0) {
      try {
        knownNoData = await deps.knownNoData(lacking, job.session);
      } catch (err) {
        // The memo only saves calls: without it the job plans every ticker, as it did before.
        deps.log('warn', 'No-data memo unreadable; planning every ticker', {
          error: errorText(err),
        });
      }
    }
    const plan = planRefresh(
      job.session,
      states.filter((s) => !knownNoData.has(s.ticker)),
    );
    job.plan = { strategy: plan.strategy, calls: [...plan.calls] };
    job.rebuild = rebuildOf(job.tickers, plan.rebuildSince);
    deps.log('info', 'Refresh planned', {
      session: job.session,
      tickers: job.tickers.length,
      strategy: plan.strategy,
      calls: plan.calls.length,
      alternativeCost: plan.alternativeCost,
      needs: plan.needs,
      knownNoData: knownNoData.size,
    });
  }

  const fetched = new Map<string, Map<string, TickerDataRow>>();
  const remember = (ticker: string, row: TickerDataRow) => {
    let m = fetched.get(ticker);
    if (!m) fetched.set(ticker, (m = new Map<string, TickerDataRow>()));
    m.set(row.asOf, row);
  };
  let polygonCalls = 0;
  const pending = job.plan.calls.filter((c) => !job.done.includes(callKey(c)));

  const deferJob = async (reason: DeferReason, delayMs: number): Promise<RefreshOutcome> => {
    if (job.deferrals + 1 > MAX_DEFERRALS) {
      throw new RefreshFailedError(
        `Refresh of session ${job.session} deferred ${job.deferrals} times (last: ${reason}); giving up so the job reaches the DLQ`,
      );
    }
    // Raw rows are kept for the resumed job, but never over a stored row that already has its
    // indicators for the same close (readers would see them vanish until the job finishes).
    const rows = [...fetched.entries()].flatMap(([t, m]) => {
      const have = new Map((stored.get(t) ?? []).map((r) => [r.asOf, r]));
      return [...m.values()].filter((r) => !keepsStored(have.get(r.asOf), r));
    });
    if (rows.length > 0) await deps.putRows(rows);
    const delaySeconds = Math.min(900, Math.max(1, Math.ceil(delayMs / 1000)));
    await deps.defer({ ...job, deferrals: job.deferrals + 1 }, delaySeconds);
    const remainingCalls = job.plan!.calls.filter((c) => !job.done.includes(callKey(c))).length;
    deps.log('info', 'Refresh deferred', {
      reason,
      delaySeconds,
      polygonCalls,
      remainingCalls,
      session: job.session,
    });
    return { status: 'deferred', reason, delaySeconds, polygonCalls, remainingCalls };
  };

  for (const call of pending) {
    if (job.done.includes(callKey(call))) continue;
    if (deps.remainingMs() < FINISH_RESERVE_MS + 30_000) return deferJob('time', 1_000);
    let bars: readonly BarLike[];
    try {
      bars =
        call.kind === 'grouped'
          ? await deps.fetchGrouped(call.date)
          : await deps.fetchRange(call.ticker, call.from, call.to);
    } catch (err) {
      const info = deps.classify(err);
      switch (info.kind) {
        case 'budget':
          return deferJob('budget', info.retryAfterMs ?? 60_000);
        case 'rate-limited':
          return deferJob('rate-limited', info.retryAfterMs ?? 60_000);
        case 'not-available':
          return deferJob('not-published', 900_000);
        case 'server':
        case 'network':
          return deferJob('upstream-error', 300_000);
        default:
          throw new RefreshFailedError(`Polygon ${describeCall(call)} failed: ${info.message}`);
      }
    }
    polygonCalls++;
    if (
      call.kind === 'grouped' &&
      call.date === job.session &&
      bars.length === 0 &&
      isTradingDay(call.date)
    ) {
      // A trading day with no bars yet: Polygon has not published the session.
      return deferJob('not-published', 900_000);
    }
    for (const bar of bars) {
      const ticker = call.kind === 'range' ? call.ticker : bar.ticker;
      if (!tickerSet.has(ticker)) continue;
      remember(
        ticker,
        rowFromBar(
          ticker,
          bar,
          call.kind === 'grouped' ? 'polygon-grouped' : 'polygon-range',
          fetchedAt,
        ),
      );
    }
    job.done.push(callKey(call));
    if (call.kind === 'grouped' && call.date === job.session) {
      // The session's grouped day lists every traded symbol: a history call for a ticker missing
      // from it would find nothing new (unknown, delisted, untraded), so it is not spent.
      const traded = new Set(bars.map((b) => b.ticker));
      for (const c of pending) {
        if (c.kind === 'range' && !traded.has(c.ticker) && !job.done.includes(callKey(c)))
          job.done.push(callKey(c));
      }
    }
  }

  // Every call is done: complete indicators and write, then reprice.
  const refreshed: string[] = [];
  const noData: string[] = [];
  const prices = new Map<string, { price: number; asOf: string }>();
  let alreadyFresh = 0;
  let rowsWritten = 0;
  const toWrite: TickerDataRow[] = [];
  const rebuildIndexes = new Set(job.rebuild?.indexes ?? []);
  await mapLimit(job.tickers, limit, async (t, i) => {
    const since = rebuildIndexes.has(i) ? job.rebuild?.since : undefined;
    let history = stored.get(t) ?? [];
    // A resumed job wrote raw rows in earlier invocations; read far enough back to include them.
    if (resumed || since !== undefined)
      history = ownRows(await deps.latestRows(t, REBUILT_HISTORY_ROWS));
    const merged = new Map(history.map((r) => [r.asOf, r]));
    for (const row of fetched.get(t)?.values() ?? []) {
      // A re-fetched bar with the same close keeps its computed indicators (reruns rewrite nothing).
      if (!keepsStored(merged.get(row.asOf), row)) merged.set(row.asOf, row);
    }
    let rows = [...merged.values()].sort((a, b) => (a.asOf < b.asOf ? -1 : 1));
    if (since !== undefined) rows = rows.filter((r) => r.asOf >= since);
    const latest = rows[rows.length - 1];
    if (!latest || latest.asOf < job.session) {
      noData.push(t);
      return;
    }
    const completed = completeIndicators(rows);
    toWrite.push(...completed);
    if (completed.length === 0) alreadyFresh++;
    else refreshed.push(t);
    prices.set(t, { price: latest.price, asOf: latest.asOf });
  });
  if (toWrite.length > 0) {
    await deps.putRows(toWrite);
    rowsWritten = toWrite.length;
  }
  if (noData.length > 0)
    deps.log('warn', 'Tickers without data for the session', {
      session: job.session,
      count: noData.length,
      tickers: noData.slice(0, 50),
    });
  // Memoise the symbols without data, but only once the session is known to be published (some
  // ticker has a bar for it): a range answer cut short before an unpublished session must not
  // make the re-run skip a symbol that does trade.
  const newlyNoData = noData.filter((t) => !knownNoData.has(t));
  if (deps.recordNoData && newlyNoData.length > 0 && prices.size > 0) {
    try {
      await deps.recordNoData(newlyNoData, job.session);
    } catch (err) {
      deps.log('warn', 'No-data memo not written; a re-run will look these tickers up again', {
        count: newlyNoData.length,
        error: errorText(err),
      });
    }
  }
  const positions = await deps.reprice(prices);
  return {
    status: 'done',
    session: job.session,
    strategy: job.plan.strategy,
    refreshed: refreshed.sort(),
    alreadyFresh,
    noData: noData.sort(),
    polygonCalls,
    rowsWritten,
    positions,
  };
}

/** Whether a fetched bar leaves the stored row of its session as it is (same close, computed). */
function keepsStored(existing: TickerDataRow | undefined, fetched: TickerDataRow): boolean {
  return (
    existing !== undefined &&
    existing.price === fetched.price &&
    existing.indicatorVersion !== undefined
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function describeCall(c: PolygonCall): string {
  return c.kind === 'grouped'
    ? `grouped daily ${c.date}`
    : `daily range ${c.ticker} ${c.from}..${c.to}`;
}

/** The planner's per-ticker rebuild dates as one date and ticker indexes (all share one date). */
function rebuildOf(
  tickers: readonly string[],
  since: Readonly<Record<string, string>>,
): RefreshJob['rebuild'] {
  const dates = new Set(Object.values(since));
  if (dates.size === 0) return undefined;
  if (dates.size > 1)
    throw new Error(`Rebuild dates must agree within a job, got ${[...dates].join(', ')}`);
  const indexes = tickers.flatMap((t, i) => (since[t] !== undefined ? [i] : []));
  return { since: [...dates][0], indexes };
}
