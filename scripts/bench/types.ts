import type { DynamoCounts } from './instrument';

/** What one benchmark night measured (virtual times are on the simulated clock). */
export interface NightResult {
  readonly label: 'first' | 'steady' | 'split';
  /** The New York session the night refreshed. */
  readonly session: string;
  /** When the nightly rule fired (virtual, ISO). */
  readonly startedAt: string;
  readonly polygon: {
    /** HTTP requests Polygon received (any status). */
    readonly requests: number;
    readonly grouped: number;
    readonly range: number;
    readonly rateLimited: number;
    readonly otherErrors: number;
    /** Most requests in any rolling 60-s window (simulated clock), 429s included. */
    readonly maxInWindow: number;
  };
  /** Tickers whose newest row is the session's, with RSI and MA50. */
  readonly tickersFresh: number;
  /** Positions whose price fields were written this night. */
  readonly positionsRepriced: number;
  /**
   * Simulated ms from the rule firing until every ticker is fresh: the last job's "Ticker rows
   * written" log line (its rows are in `ticker-data`), or the end of the last job without one.
   */
  readonly freshAfterMs: number | null;
  /** Simulated ms from the rule firing to the end of the last job (every position repriced too). */
  readonly repricedAfterMs: number | null;
  /** Simulated ms the virtual clock skipped (waiting for SQS delays). */
  readonly waitedMs: number;
  /** Real ms the night took on this machine. */
  readonly realMs: number;
  readonly invocations: number;
  readonly deferrals: Record<string, number>;
  readonly failures: number;
  readonly dlq: number;
  /** Longest processTicker invocation, simulated ms (Lambda timeout: 900000). */
  readonly longestInvocationMs: number;
  /** Per function: invocations and their simulated durations (for a cost estimate). */
  readonly lambda: Record<string, FunctionUse>;
  readonly strategies: string[];
  readonly dynamo: DynamoCounts;
  readonly sqs: Record<string, number>;
  readonly errors: string[];
}

export interface FunctionUse {
  readonly invocations: number;
  /** Sum of the simulated durations, ms (billed duration ≈ this, rounded up per invocation). */
  readonly totalMs: number;
  readonly longestMs: number;
  /** Lambda timeout of the function, ms. */
  readonly timeoutMs: number;
}

export interface CaseResult {
  readonly tickers: number;
  readonly portfolios: number;
  readonly positions: number;
  readonly universe: number;
  readonly nights: NightResult[];
  /** Most requests in any rolling 60-s window over both nights. */
  readonly maxInWindowOverall: number;
  readonly setupRealMs: number;
  /** CPU seconds (user + system) of the benchmark process (service, simulator, poller) and of dynalite. */
  readonly cpuSeconds: { readonly service: number; readonly dynalite: number };
  readonly totalRealMs: number;
}
