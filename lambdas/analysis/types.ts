import * as z from '../platform/zod';
import type { BatchResult } from '../platform/sqs-batch';

/**
 * The analysis' records and results: the queue message, the claim contract, the xAI request and
 * answer as the flows see them, the stored row and what the functions return. Types only (and
 * the message schema), so every module of the feature can import them without pulling in code.
 */

/** Body of a `portfolio-analysis-queue` message. */
export const analysisMessageSchema = z.object({
  v: z.literal(1),
  portfolioId: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  runId: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  force: z.optional(z.boolean()),
  /** Times the analysis was re-queued after xAI rate limits (flows.ts, deferRateLimited). */
  deferrals: z.optional(z.int().check(z.minimum(0), z.maximum(1_000))),
});

/** One queued analysis. */
export type AnalysisMessage = z.infer<typeof analysisMessageSchema>;

/** Result of one fan-out run. */
export interface AnalyzePortfoliosResult {
  readonly runId: string;
  /** Active portfolios found. */
  readonly found: number;
  readonly queued: number;
  readonly skipped: { readonly noPositions: number };
  /** The consumer concurrency derived for the night (lambdas/analysis/throughput.ts). */
  readonly concurrency?: number;
  /** When the night is expected to finish at that concurrency, ISO. */
  readonly expectedFinish?: string;
}

/** Result of trying to claim an analysis key. */
export type ClaimResult =
  | { readonly status: 'claimed'; readonly tookOver?: 'stale' | 'forced' }
  | { readonly status: 'done'; readonly analysisTimestamp?: string }
  | { readonly status: 'in-progress'; readonly claimedAt?: string; readonly leaseUntil?: number };

/** A failure remembered in the state table (lambdas/analysis/paid-guard.ts). */
export interface FailureMark {
  readonly kind: string;
  readonly message: string;
  /** Failures marked under this key. */
  readonly count: number;
  /** Unix ms until which the mark holds. */
  readonly holdUntil: number;
}

/** Whether the night's spend cap lets one more xAI call through (lambdas/analysis/spend-cap.ts). */
export type SpendAdmission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly spentUsd: number; readonly capUsd: number };

/** Request for a claim. */
export interface ClaimRequest {
  /** Unique per attempt; only the owner can complete or release the claim. */
  readonly owner: string;
  readonly portfolioId: string;
  readonly now: number;
  /** Unix ms after which the attempt is certainly over (the invocation's deadline). */
  readonly leaseUntil: number;
  /** Take the key even when an analysis is already done (never from a live attempt). */
  readonly force: boolean;
}

/** A chat completion request as the analysis sends it. */
export interface CompletionRequest {
  readonly system: string;
  readonly user: string;
  readonly schema: Record<string, unknown>;
  readonly schemaName: string;
  readonly maxCompletionTokens: number;
  readonly temperature: number;
}

/** Token usage and cost of one completion as xAI reports it. */
export interface CompletionUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  /** Prompt tokens served from xAI's prompt cache (billed at the cached rate). */
  readonly cachedPromptTokens?: number;
  /** Reasoning tokens (billed at the output rate; xAI counts them outside `completion_tokens`). */
  readonly reasoningTokens?: number;
  /** Billed cost; 1 USD = 10^10 ticks. */
  readonly costInUsdTicks?: number;
}

/** A successful completion. */
export interface CompletionResult {
  readonly id: string;
  /** The model id the response reports. */
  readonly model: string;
  readonly content: string;
  readonly usage: CompletionUsage;
  readonly attempts: number;
}

/** A `portfolio-analyses-{stage}` row as this service writes it. */
export interface AnalysisRow extends CompletionUsage {
  readonly portfolio: string;
  readonly timestamp: string;
  readonly portfolioName: string;
  /** The model id the xAI response reports. */
  readonly model: string;
  /** The model id requested (`XAI_MODEL`); part of the idempotency key. */
  readonly requestedModel: string;
  readonly dataAsOf: string;
  readonly prompt: string;
  readonly promptVersion: string;
  /** The model's raw answer. */
  readonly analysis: string;
  /** JSON string (single-encoded) of {@link ParsedEntry}[]. */
  readonly parsed_data: string;
  readonly costUsd?: number;
  readonly xaiResponseId: string;
  readonly xaiAttempts: number;
  readonly missingTickers: string[];
  readonly staleTickers: string[];
  readonly runId: string;
  readonly forced: boolean;
  readonly warnings?: string[];
}

/** One entry of `parsed_data`. */
export interface ParsedEntry {
  readonly ticker: string;
  readonly score: number;
  readonly reason: string;
  readonly price?: number;
  readonly rsi?: number;
  readonly ma50?: number;
  readonly asOf?: string;
  readonly weight_percent?: number;
  readonly pl_percent?: number;
  readonly stale?: true;
}

/** What a manual invocation returns about a stored analysis. */
export interface AnalysisSummary {
  readonly portfolio: string;
  readonly portfolioName: string;
  readonly timestamp: string;
  readonly dataAsOf: string;
  readonly model: string;
  readonly promptVersion?: string;
  readonly scores: { readonly ticker: string; readonly score: number }[];
  readonly missingTickers: string[];
  readonly staleTickers: string[];
  readonly costUsd?: number;
}

/** The result of analysing one portfolio. */
export type PortfolioAnalysisOutcome =
  | { readonly status: 'stored'; readonly analysis: AnalysisSummary }
  | {
      readonly status: 'skipped';
      readonly reason: 'already-analysed';
      readonly message: string;
      readonly analysis?: AnalysisSummary;
    };

/** What a manual invocation returns. */
export type ManualAnalysisResult = PortfolioAnalysisOutcome;

/** What a queue-triggered invocation returns (the SQS partial batch response). */
export type BatchAnalysisResult = BatchResult;
