import { positiveIntEnv, requireEnv } from '../platform/config';
import { portfolioTablesConfig } from '../portfolios/config';
import type { PacingLimits } from './throughput';

/**
 * Default Grok model when the stage config sets none. `grok-4-1-fast-reasoning` (and the other
 * Grok 4 / 4.1 fast ids) were retired by xAI on 2026-05-15; xAI names `grok-4.3` as their
 * replacement (reasoning model, structured outputs, $1.25 / $0.20 cached / $2.50 per 1M tokens).
 * Defined here, not in the xAI client, so reading the config never bundles the HTTP client.
 */
export const DEFAULT_XAI_MODEL = 'grok-4.3';

/** Default xAI chat completions endpoint (`XAI_API_URL`). */
export const DEFAULT_XAI_API_URL = 'https://api.x.ai/v1/chat/completions';

/** What `analyzePortfolios` reads from its environment. */
export interface AnalysisFanOutConfig {
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  readonly analysisQueueUrl: string;
  /** The night's pacing limits (the stage's `analysisPacing`, lib/config/stages.ts). */
  readonly pacing: PacingLimits;
  /**
   * The consumer's event source mapping UUID (`ANALYSIS_EVENT_SOURCE_MAPPING_ID`); unset in a
   * local run, where the derived concurrency is only logged.
   */
  readonly eventSourceMappingId?: string;
}

/** What `analyzePortfolio` reads from its environment. */
export interface AnalysisConfig {
  readonly analysesTable: string;
  readonly tickerDataTable: string;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  /** Holds the idempotency claims (`analysis#…`, TTL `expiresAt`). */
  readonly stateTable: string;
  /**
   * Where a rate-limited analysis is re-queued with a delay (`ANALYSIS_QUEUE_URL`); unset (a
   * manual-only setup), such a record retries as a failure instead.
   */
  readonly analysisQueueUrl?: string;
  /** @default https://api.x.ai/v1/chat/completions */
  readonly xaiApiUrl: string;
  /** @default grok-4.3 */
  readonly xaiModel: string;
  /**
   * Per-attempt timeout, ms (`XAI_TIMEOUT_MS`). The function has 180 s: one slow answer is cut
   * at 60 s and still leaves time for a retry, never paid for twice by a Lambda timeout.
   * @default 60000
   */
  readonly xaiTimeoutMs: number;
  /** Attempts per analysis including the first (`XAI_MAX_ATTEMPTS`). @default 3 */
  readonly xaiMaxAttempts: number;
  /** Full-jitter backoff base, ms (`XAI_RETRY_BASE_MS`). @default 1000 */
  readonly xaiRetryBaseMs: number;
  /** Full-jitter backoff cap, ms (`XAI_RETRY_MAX_MS`). @default 20000 */
  readonly xaiRetryMaxMs: number;
  /**
   * The night's xAI spending cap, USD (`XAI_MAX_USD_PER_NIGHT`, from the stage config when
   * deployed; lambdas/analysis/spend-cap.ts). Unset: no cap (local runs and tests only).
   */
  readonly xaiMaxUsdPerNight?: number;
}

/** Reads the fan-out's environment contract once per cold start; a missing name throws. */
export function analysisFanOutConfig(env: NodeJS.ProcessEnv = process.env): AnalysisFanOutConfig {
  return {
    ...portfolioTablesConfig(env),
    analysisQueueUrl: requireEnv('ANALYSIS_QUEUE_URL', env),
    pacing: pacingConfig(env),
    eventSourceMappingId: env.ANALYSIS_EVENT_SOURCE_MAPPING_ID || undefined,
  };
}

/**
 * The pacing limits (defaults: xAI's team tier, 1,800 requests and 10,000,000 tokens a minute;
 * 15 s and 8,000 tokens per analysis; 13:30 UTC; at most 100 concurrent analyses). The
 * deployed function gets each from the stage config, so the template shows what runs.
 */
export function pacingConfig(env: NodeJS.ProcessEnv = process.env): PacingLimits {
  const deadlineUtc = env.ANALYSIS_DEADLINE_UTC || '13:30';
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(deadlineUtc))
    throw new Error(`ANALYSIS_DEADLINE_UTC must be HH:MM (UTC), got "${deadlineUtc}"`);
  return {
    requestsPerMinute: positiveIntEnv('XAI_REQUESTS_PER_MINUTE', 1_800, env),
    tokensPerMinute: positiveIntEnv('XAI_TOKENS_PER_MINUTE', 10_000_000, env),
    tokensPerAnalysis: positiveIntEnv('XAI_TOKENS_PER_ANALYSIS', 8_000, env),
    secondsPerAnalysis: positiveIntEnv('XAI_SECONDS_PER_ANALYSIS', 15, env),
    deadlineUtc,
    maxConcurrency: Math.max(2, positiveIntEnv('ANALYSIS_MAX_CONCURRENCY', 100, env)),
  };
}

/** Reads the analysis' environment contract once per cold start; a missing name throws. */
export function analysisConfig(env: NodeJS.ProcessEnv = process.env): AnalysisConfig {
  return {
    analysesTable: requireEnv('ANALYSES_TABLE', env),
    tickerDataTable: requireEnv('TICKER_DATA_TABLE', env),
    ...portfolioTablesConfig(env),
    stateTable: requireEnv('STATE_TABLE', env),
    analysisQueueUrl: env.ANALYSIS_QUEUE_URL || undefined,
    xaiApiUrl: env.XAI_API_URL || DEFAULT_XAI_API_URL,
    xaiModel: env.XAI_MODEL?.trim() || DEFAULT_XAI_MODEL,
    xaiTimeoutMs: positiveIntEnv('XAI_TIMEOUT_MS', 60_000, env),
    xaiMaxAttempts: positiveIntEnv('XAI_MAX_ATTEMPTS', 3, env),
    xaiRetryBaseMs: positiveIntEnv('XAI_RETRY_BASE_MS', 1_000, env),
    xaiRetryMaxMs: positiveIntEnv('XAI_RETRY_MAX_MS', 20_000, env),
    xaiMaxUsdPerNight: positiveUsdEnv('XAI_MAX_USD_PER_NIGHT', env),
  };
}

/** A positive USD amount, or undefined when the variable is unset or empty. */
function positiveUsdEnv(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const usd = Number(raw);
  if (!Number.isFinite(usd) || usd <= 0)
    throw new Error(`Environment variable ${name} must be a positive amount in USD, got "${raw}"`);
  return usd;
}
