import { benchmarkTickerEnv, positiveIntEnv, requireEnv } from '../platform/config';
import { portfolioTablesConfig } from '../portfolios/config';

/**
 * The market-data functions' environment contract, one reader per function: each requires only
 * the variables its own code reads, so a function's environment holds nothing else (SYSTEM.md).
 */

/** What `processTickers` (the nightly fan-out) reads. */
export interface ProcessTickersConfig {
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  readonly tickerQueueUrl: string;
  /** Refreshed every night with the held tickers (`BENCHMARK_TICKER`). @default SPY */
  readonly benchmarkTicker: string;
}

/** What `processTicker` (the refresh job) reads. */
export interface ProcessTickerConfig {
  readonly tickerDataTable: string;
  /** Read when repricing: only positions of active portfolios are repriced. */
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  /** The request budget, the no-data memo and the refresh marker. */
  readonly stateTable: string;
  /** Where a deferred job is re-enqueued. */
  readonly tickerQueueUrl: string;
  readonly polygonBaseUrl: string;
  readonly polygonRequestsPerMinute: number;
  /**
   * The table holding the Polygon request budget (`POLYGON_BUDGET_TABLE`): an account-level
   * table shared by every stage that uses the same key, or, when unset, the stage's state table
   * (then the stage's key must be its own: README "Polygon budget").
   */
  readonly polygonBudgetTable: string;
  /**
   * Length of the budget window in ms: 60000 deployed. Only a local run or test shortens it, to
   * replay a night time-compressed against a simulator scaled the same way.
   */
  readonly polygonBudgetWindowMs: number;
  /** Per-attempt Polygon timeout in ms (`POLYGON_TIMEOUT_MS`). @default 20000 */
  readonly polygonTimeoutMs: number;
}

/** What `checkFreshness` reads. */
export interface CheckFreshnessConfig {
  /** Holds the refresh marker. */
  readonly stateTable: string;
}

export function processTickersConfig(env: NodeJS.ProcessEnv = process.env): ProcessTickersConfig {
  return {
    ...portfolioTablesConfig(env),
    tickerQueueUrl: requireEnv('SQS_QUEUE_URL', env),
    benchmarkTicker: benchmarkTickerEnv(env),
  };
}

/** The Polygon API key is not here: `apiKeyResolver('POLYGON_API_KEY')` reads it at run time. */
export function processTickerConfig(env: NodeJS.ProcessEnv = process.env): ProcessTickerConfig {
  return {
    tickerDataTable: requireEnv('TICKER_DATA_TABLE', env),
    ...portfolioTablesConfig(env),
    stateTable: requireEnv('STATE_TABLE', env),
    tickerQueueUrl: requireEnv('SQS_QUEUE_URL', env),
    polygonBudgetTable: env.POLYGON_BUDGET_TABLE || requireEnv('STATE_TABLE', env),
    polygonBaseUrl: env.POLYGON_BASE_URL || 'https://api.polygon.io',
    polygonRequestsPerMinute: positiveIntEnv('POLYGON_REQUESTS_PER_MINUTE', 5, env),
    polygonBudgetWindowMs: positiveIntEnv('POLYGON_BUDGET_WINDOW_MS', 60_000, env),
    polygonTimeoutMs: positiveIntEnv('POLYGON_TIMEOUT_MS', 20_000, env),
  };
}

export function checkFreshnessConfig(env: NodeJS.ProcessEnv = process.env): CheckFreshnessConfig {
  return { stateTable: requireEnv('STATE_TABLE', env) };
}
