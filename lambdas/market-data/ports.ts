import type { FlowLog, FlowObservability, MetricName } from '../platform/metrics';
import type { RefreshJob, RepriceSummary } from './refresh-job/job';
import type { BarLike, TickerDataRow } from './domain/ticker-rows';
import type { SplitEvent } from './domain/splits';

/**
 * The market-data flows' ports: small role interfaces, each implemented directly by one adapter
 * (checked with `satisfies` in the wiring), so the flows and the refresh job name only the roles
 * they use and tests fake one role at a time.
 */

/** The counters the market-data flows publish (a subset of the platform's metric names). */
export type MarketMetric = Extract<
  MetricName,
  | 'TickersFound'
  | 'TickersQueued'
  | 'InvalidTickers'
  | 'TickersRefreshed'
  | 'TickersAlreadyFresh'
  | 'TickersWithoutData'
  | 'PolygonRequests'
  | 'Deferrals'
  | 'PositionsUpdated'
  | 'PositionsSkipped'
  | 'MalformedMessages'
  | 'RefreshFailures'
  | 'SplitsApplied'
>;

export type Log = FlowLog;

/** Metrics and logs (Powertools in the wiring). */
export type Observability = FlowObservability<MarketMetric>;

/**
 * Polygon's daily bars (the Polygon client). A failed call throws an `UpstreamError` whose kind
 * says what went wrong (`budget` when the request budget had no permit); the job maps each kind
 * to a pause or a failure.
 */
export interface SessionBars {
  groupedDaily(date: string): Promise<readonly BarLike[]>;
  dailyRange(ticker: string, from: string, to: string): Promise<readonly BarLike[]>;
}

/**
 * Polygon's stock splits (the Polygon client): every split of any ticker executed from `from` to
 * `to` inclusive (one call, plus pages). Failures throw an `UpstreamError`, as for the bars.
 */
export interface SplitEvents {
  splits(from: string, to: string): Promise<readonly SplitEvent[]>;
}

/** The `ticker-data` rows (the ticker-data repository). */
export interface TickerHistory {
  /** The newest `limit` items of a ticker, newest first, any writer's. */
  latestRows(ticker: string, limit: number): Promise<Record<string, unknown>[]>;
  /**
   * The items at these keys, any order, missing ones left out (one BatchGetItem per 100 keys).
   * Optional: without it every ticker's history is read with `latestRows`.
   */
  rowsAt?(
    keys: readonly { readonly ticker: string; readonly timestamp: string }[],
  ): Promise<Record<string, unknown>[]>;
  putRows(rows: readonly TickerDataRow[]): Promise<unknown>;
}

/**
 * Which tickers an earlier run found without data for a session (the no-data memo), so that a
 * re-run of a complete night spends no call on an unknown or untraded symbol. Optional: without
 * it (or when it fails) every ticker is planned.
 */
export interface NoDataMemo {
  known(tickers: readonly string[], session: string): Promise<ReadonlySet<string>>;
  record(tickers: readonly string[], session: string): Promise<void>;
}

/**
 * The bars a deferred job fetched, parked until its last invocation merges them (the parked-rows
 * store in the state table), so that every `ticker-data` row is written once, with indicators.
 */
export interface ParkedRows {
  /** Parks the rows of one invocation of job `jobKey`; the id to list in the job message. */
  park(jobKey: string, rows: readonly TickerDataRow[]): Promise<string>;
  /** The rows parked under `id`; throws when they are gone. */
  load(jobKey: string, id: string): Promise<TickerDataRow[]>;
}

/**
 * How far the finishing invocations of a parked job have written its rows (the finishing cursor
 * in the state table): the count of the job's tickers, in message order, with every row written.
 */
export interface FinishCursor {
  /** 0 when the job has not started writing. */
  load(jobKey: string): Promise<number>;
  /** Moves the cursor from `from` to `to`; false when another invocation moved it first. */
  advance(jobKey: string, from: number, to: number): Promise<boolean>;
}

/** Writes fresh prices onto the positions of active portfolios (the portfolio repository). */
export interface PositionPrices {
  reprice(prices: ReadonlyMap<string, { price: number; asOf: string }>): Promise<RepriceSummary>;
}

/** Re-enqueues a job after `delaySeconds` (≤ 900) (the job queue). */
export interface Deferrals {
  send(job: RefreshJob, delaySeconds: number): Promise<void>;
}

/** Queues new refresh jobs, reporting the ones that could not be sent (the job queue). */
export interface JobSender {
  sendAll(
    jobs: RefreshJob[],
  ): Promise<{ sent: number; failed: { index: number; reason: string }[] }>;
}

/** The positions of active portfolios, for their tickers (the portfolio repository). */
export interface HeldPositions {
  activePositions(): Promise<
    readonly {
      readonly positions: readonly { id: string; portfolioId: string; ticker: unknown }[];
    }[]
  >;
}

/** Records that a refresh of `session` completed, for the freshness check (the refresh marker). */
export interface RefreshMarker {
  record(session: string, summary: { refreshed: number; noData: number }): Promise<void>;
}

/** The invocation the refresh job runs in. */
export interface JobRuntime {
  readonly now: () => number;
  /** Time left in the invocation, ms. */
  readonly remainingMs: () => number;
  readonly log: Log;
  /** Parallel DynamoDB requests. @default 16 */
  readonly concurrency?: number;
}
