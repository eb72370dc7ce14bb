import type { FlowLog, FlowObservability, MetricName } from '../platform/metrics';
import { UpstreamError } from '../platform/upstream-error';
import type { Portfolio } from '../portfolios/portfolio-repository';
import type { PositionRecord } from './domain/holdings';
import type { PacingLimits } from './throughput';
import type {
  AnalysisMessage,
  AnalysisRow,
  ClaimRequest,
  ClaimResult,
  CompletionRequest,
  CompletionResult,
  CompletionUsage,
  FailureMark,
  SpendAdmission,
} from './types';

/**
 * The analysis flows' dependencies as small role interfaces. The repositories and the xAI client
 * implement them directly (the wiring checks that with `satisfies`); the tests pass plain fakes.
 */

/** Counters the flows report: the analysis' subset of the one metric vocabulary. */
export type AnalysisMetric = Extract<
  MetricName,
  | 'PortfoliosFound'
  | 'AnalysesQueued'
  | 'PortfoliosWithoutPositions'
  | 'AnalysisConcurrency'
  | 'ConcurrencyUpdateFailures'
  | 'AnalysesDeferred'
  | 'AnalysesStored'
  | 'AnalysesSkipped'
  | 'AnalysesSkippedBudget'
  | 'AnalysisFailures'
  | 'MalformedMessages'
  | 'XaiPromptTokens'
  | 'XaiCompletionTokens'
  | 'XaiReasoningTokens'
  | 'XaiCostUsd'
  | 'XaiAuthErrors'
  | 'XaiCreditsExhausted'
>;

export type AnalysisLog = FlowLog;

/** Metrics and logs, shared by both flows. */
export type AnalysisObservability = FlowObservability<AnalysisMetric>;

/** The fan-out's view of the portfolio tables. */
export interface PortfolioDirectory {
  /** Every portfolio whose `isActive` is not false, all pages. */
  activePortfolios(): Promise<Portfolio[]>;
  hasPositions(portfolioId: string): Promise<boolean>;
}

/** The analysis queue. */
export interface AnalysisQueue {
  /** Batched sends; returns the messages that could not be sent, by index. */
  sendAll(
    messages: readonly AnalysisMessage[],
  ): Promise<{ sent: number; failed: { index: number; reason: string }[] }>;
}

/** The per-portfolio analysis' view of the portfolio tables. */
export interface PortfolioReader {
  getPortfolio(id: string): Promise<Portfolio | undefined>;
  findPortfoliosByName(name: string): Promise<Portfolio[]>;
  /** Every position of the portfolio, all pages. */
  positionsOf(portfolioId: string): Promise<PositionRecord[]>;
}

/** The `ticker-data` rows the analysis reads. */
export interface MarketRows {
  /** The newest `limit` items of a ticker, newest first (any writer's). */
  latestRows(ticker: string, limit: number): Promise<Record<string, unknown>[]>;
}

/** The idempotency claims (state table). */
export interface ClaimStore {
  claim(key: string, request: ClaimRequest): Promise<ClaimResult>;
  completeClaim(
    key: string,
    owner: string,
    done: { analysisTimestamp: string; now: number },
  ): Promise<void>;
  releaseClaim(key: string, owner: string): Promise<void>;
}

/** The `portfolio-analyses` rows. */
export interface AnalysisRows {
  /** Writes the row (never over an existing one); returns the timestamp it was stored under. */
  putAnalysis(row: AnalysisRow): Promise<string>;
  getAnalysis(portfolioId: string, timestamp: string): Promise<Record<string, unknown> | undefined>;
  /** The newest analysis rows of a portfolio, newest first. */
  latestAnalyses(portfolioId: string, limit: number): Promise<Record<string, unknown>[]>;
}

/** Marks of paid failures and halts (state table). */
export interface FailureMarks {
  /** Adds one failure to the mark under `key` (creating it); returns the new count. */
  markFailure(
    key: string,
    mark: { kind: string; message: string; now: number; holdUntil: number },
  ): Promise<number>;
  failureMark(key: string): Promise<FailureMark | undefined>;
}

/** The night's xAI spend against its cap (state table; lambdas/analysis/spend-cap.ts). */
export interface NightSpend {
  /** Lets one call through unless the night's spend reached the cap (atomic check and count). */
  admit(night: string, capUsd: number, now: number): Promise<SpendAdmission>;
  /** Adds a billed cost to the night's spend; returns the new total. */
  addSpend(night: string, usd: number, now: number): Promise<number>;
}

/** Claims and rows: one repository implements both. */
export type AnalysisStore = ClaimStore & AnalysisRows;

/**
 * The xAI chat completions client. A failed `complete` throws an `UpstreamError` whose kind says
 * what went wrong (the analysis maps it with XAI_KINDS); when xAI billed an answer it could not
 * use (truncated, refused, malformed), the error also carries that answer's `usage`.
 */
export interface Completions {
  complete(request: CompletionRequest): Promise<CompletionResult>;
}

/**
 * What a failed `complete` throws, as {@link Completions} describes it. The guard trusts that
 * contract (it checks the class only), so the flow reads kind and usage without importing the
 * client's module.
 */
export type CompletionFailure = UpstreamError & { readonly usage?: CompletionUsage };
export const isCompletionFailure = (err: unknown): err is CompletionFailure =>
  err instanceof UpstreamError;

/** Clock, ids and settings of one invocation. */
export interface AnalysisRuntime {
  /** The model requested (`XAI_MODEL`). */
  readonly model: string;
  readonly now: () => number;
  /** Milliseconds left in this invocation. */
  readonly remainingMs: () => number;
  readonly newId: () => string;
  /** Ticker-data look-ups in flight at once. */
  readonly concurrency: number;
  /** The night's xAI spending cap, USD (`XAI_MAX_USD_PER_NIGHT`); undefined: no cap. */
  readonly spendCapUsd?: number;
}

/** Sets the analysis consumer's event source maximum concurrency (UpdateEventSourceMapping). */
export interface ConsumerScaler {
  setMaximumConcurrency(concurrency: number): Promise<void>;
}

/** The night's pacing: the stage's limits, the clock, and the mapping to scale (when deployed). */
export interface AnalysisPacing {
  readonly limits: PacingLimits;
  readonly now: () => number;
  readonly scaler?: ConsumerScaler;
}

/** What `analyzePortfoliosFlow` needs. */
export interface AnalyzePortfoliosDeps {
  readonly portfolios: PortfolioDirectory;
  readonly queue: AnalysisQueue;
  readonly obs: AnalysisObservability;
  readonly newRunId: () => string;
  /** Position look-ups in flight at once. */
  readonly concurrency: number;
  /** Derives and sets the consumer's concurrency from the night's work; absent = fixed. */
  readonly pacing?: AnalysisPacing;
}

/** The analysis queue, to re-queue a rate-limited analysis with a delay (0-900 s). */
export interface AnalysisRequeue {
  send(message: AnalysisMessage, delaySeconds: number): Promise<void>;
}

/** What `analyzePortfolioFlow` needs. */
export interface AnalyzePortfolioDeps {
  readonly portfolios: PortfolioReader;
  readonly marketRows: MarketRows;
  readonly store: AnalysisStore;
  readonly marks: FailureMarks;
  readonly spend: NightSpend;
  readonly xai: Completions;
  readonly runtime: AnalysisRuntime;
  readonly obs: AnalysisObservability;
  /** Re-queues rate-limited records with a delay; absent = they retry as failures. */
  readonly requeue?: AnalysisRequeue;
}
