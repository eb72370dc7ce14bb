/**
 * Every business metric the functions publish (namespace `POWERTOOLS_METRICS_NAMESPACE`), in one
 * place: the code that emits a metric names it from here, and the dashboard and alarms read the
 * same constant, so a metric cannot be renamed in one and not the other
 * (test/infra/metrics.test.ts checks both directions).
 */
export const METRICS = {
  // market-data: processTickers
  TickersFound: { unit: 'Count', help: 'distinct valid tickers held by active portfolios' },
  TickersQueued: { unit: 'Count', help: 'tickers queued in refresh jobs' },
  InvalidTickers: { unit: 'Count', help: 'position symbols that are not tickers' },
  // market-data: processTicker
  TickersRefreshed: { unit: 'Count', help: 'tickers given a row for the session' },
  TickersAlreadyFresh: { unit: 'Count', help: 'tickers that already had the session' },
  TickersWithoutData: { unit: 'Count', help: 'tickers Polygon has no data for' },
  PolygonRequests: { unit: 'Count', help: 'Polygon calls a job made (per job)' },
  PolygonHttpRequests: { unit: 'Count', help: 'every HTTP attempt to Polygon' },
  Polygon429s: { unit: 'Count', help: 'Polygon answers 429' },
  PolygonAuthErrors: { unit: 'Count', help: 'Polygon answers 401' },
  Deferrals: { unit: 'Count', help: 'jobs re-queued with a delay' },
  PositionsUpdated: { unit: 'Count', help: 'positions repriced' },
  PositionsSkipped: { unit: 'Count', help: 'positions left alone' },
  RefreshFailures: { unit: 'Count', help: 'refresh jobs that failed' },
  SplitsApplied: { unit: 'Count', help: 'stock splits whose history was re-based' },
  // both features: items of portfolio-api's tables left out as unusable (lambdas/portfolios/records.ts)
  InvalidPositions: { unit: 'Count', help: 'positions skipped: bad ticker, shares or costBasis' },
  InvalidPortfolios: { unit: 'Count', help: 'portfolios skipped: no id' },
  // both consumers
  MalformedMessages: { unit: 'Count', help: 'queue messages that cannot be read' },
  // analysis
  PortfoliosFound: { unit: 'Count', help: 'active portfolios found' },
  AnalysesQueued: { unit: 'Count', help: 'portfolios queued for analysis' },
  // analysis pacing (lambdas/analysis/throughput.ts, issue 17)
  AnalysisConcurrency: { unit: 'Count', help: 'consumer concurrency derived for the night' },
  ConcurrencyUpdateFailures: { unit: 'Count', help: 'failed sets of the consumer concurrency' },
  AnalysesDeferred: { unit: 'Count', help: 'analyses re-queued with a delay after xAI 429s' },
  PortfoliosWithoutPositions: { unit: 'Count', help: 'active portfolios with no positions' },
  AnalysesStored: { unit: 'Count', help: 'analyses stored' },
  AnalysesSkipped: { unit: 'Count', help: 'analyses not needed (already done)' },
  AnalysesSkippedBudget: {
    unit: 'Count',
    help: 'queued analyses not sent: the night reached its xAI spending cap',
  },
  AnalysisFailures: { unit: 'Count', help: 'analyses that failed' },
  XaiPromptTokens: { unit: 'Count', help: 'prompt tokens billed' },
  XaiCompletionTokens: { unit: 'Count', help: 'completion tokens billed' },
  XaiReasoningTokens: { unit: 'Count', help: 'reasoning tokens billed' },
  XaiCostUsd: { unit: 'NoUnit', help: 'cost in USD from xAI usage' },
  XaiAuthErrors: { unit: 'Count', help: 'xAI rejected the key' },
  XaiCreditsExhausted: { unit: 'Count', help: 'xAI credits exhausted' },
  // checkFreshness
  StaleData: { unit: 'Count', help: 'held tickers without the latest session' },
  // evaluateAnalyses (the score track record)
  AnalysesEvaluated: { unit: 'Count', help: 'analyses given an evaluation' },
  AnalysesNotEvaluable: { unit: 'Count', help: 'old (legacy) or failed rows skipped' },
  // per model and prompt version (dimensions `model`, `promptVersion`), one datapoint a night
  TrackRecordHitRate: { unit: 'NoUnit', help: 'pooled hit rate over the trailing window' },
  TrackRecordIC: { unit: 'NoUnit', help: 'mean rank IC over the trailing window' },
  TrackRecordScores: { unit: 'Count', help: 'scores behind the track record (Σ n)' },
} as const satisfies Record<string, { unit: 'Count' | 'NoUnit'; help: string }>;

export type MetricName = keyof typeof METRICS;

/** Structured log sink of the flows (Powertools `Logger` methods fit; see observability.ts). */
export type FlowLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data?: Record<string, unknown>,
) => void;

/**
 * What every flow reports through: counters (metric names from {@link METRICS}), log lines and
 * the run's correlation id. Pure types, so a feature's ports can name it without the SDK.
 */
export interface FlowObservability<M extends MetricName = MetricName> {
  readonly count: (metric: M, value: number) => void;
  readonly log: FlowLog;
  /** Tags every following log line with the run's id (carried from the fan-out in each message). */
  readonly correlate: (runId: string) => void;
}
