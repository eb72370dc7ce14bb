import Big from 'big.js';
import type { AnalysisScore } from './domain/answer';
import type { Holding, HoldingsSummary } from './domain/holdings';
import { PROMPT_VERSION } from './domain/prompt';
import type { AnalysisRow, AnalysisSummary, CompletionResult, ParsedEntry } from './types';

/** The stored row of an analysis and the summary a manual invocation returns of one. */

/** Completion token cap for reasoning: base headroom plus about twice an entry's size per ticker. */
export const COMPLETION_TOKENS_BASE = 2_000;
/** Completion tokens allowed per scored ticker (an entry is ~70 tokens). */
export const COMPLETION_TOKENS_PER_TICKER = 150;
/** Upper bound of `max_completion_tokens`. */
export const COMPLETION_TOKENS_MAX = 16_000;

/**
 * `max_completion_tokens` for a portfolio. Grok 4.x models reason before answering and the
 * reasoning counts against the cap, so it is sized with headroom (billing is by tokens used, not
 * by the cap); a truncated answer fails the analysis rather than storing part of one.
 */
export function completionTokenBudget(tickers: number): number {
  return Math.min(
    COMPLETION_TOKENS_MAX,
    COMPLETION_TOKENS_BASE + COMPLETION_TOKENS_PER_TICKER * tickers,
  );
}

/** What the row is built from besides the completion. */
export interface RowInput {
  readonly portfolioId: string;
  readonly portfolioName: string;
  readonly summary: HoldingsSummary;
  readonly dataAsOf: string;
  /** The user prompt sent (the system prompt is named by version only). */
  readonly userPrompt: string;
  readonly scores: readonly AnalysisScore[];
  readonly warnings: readonly string[];
  readonly requestedModel: string;
  readonly runId: string;
  readonly force: boolean;
  readonly now: number;
}

/** The `portfolio-analyses` row of a validated answer. */
export function analysisRow(input: RowInput, completion: CompletionResult): AnalysisRow {
  const { summary, dataAsOf } = input;
  const byTicker = new Map(summary.holdings.map((h) => [h.ticker, h]));
  const parsed: ParsedEntry[] = input.scores.map((s) => parsedEntry(s, byTicker.get(s.ticker)));
  const usage = completion.usage;
  return {
    portfolio: input.portfolioId,
    timestamp: new Date(input.now).toISOString(),
    portfolioName: input.portfolioName,
    model: completion.model,
    requestedModel: input.requestedModel,
    dataAsOf,
    prompt: `[system prompt ${PROMPT_VERSION}]\n${input.userPrompt}`,
    promptVersion: PROMPT_VERSION,
    analysis: completion.content,
    parsed_data: JSON.stringify(parsed),
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    cachedPromptTokens: usage.cachedPromptTokens,
    reasoningTokens: usage.reasoningTokens,
    costInUsdTicks: usage.costInUsdTicks,
    costUsd: usage.costInUsdTicks === undefined ? undefined : ticksToUsd(usage.costInUsdTicks),
    xaiResponseId: completion.id,
    xaiAttempts: completion.attempts,
    missingTickers: summary.missing,
    staleTickers: summary.stale,
    runId: input.runId,
    forced: input.force,
    warnings: input.warnings.length > 0 ? [...input.warnings] : undefined,
  };
}

function parsedEntry(score: AnalysisScore, holding: Holding | undefined): ParsedEntry {
  const data = holding?.data;
  return {
    ticker: score.ticker,
    score: score.score,
    reason: score.reason,
    price: data?.price,
    rsi: data?.rsi === undefined ? undefined : round(data.rsi, 2),
    ma50: data?.ma50 === undefined ? undefined : round(data.ma50, 4),
    asOf: data?.asOf,
    weight_percent:
      holding?.weightPercent === undefined ? undefined : round(holding.weightPercent, 2),
    pl_percent: holding?.plPercent === undefined ? undefined : round(holding.plPercent, 2),
    ...(holding?.stale ? { stale: true as const } : {}),
  };
}

/** xAI cost ticks to USD (1 USD = 10^10 ticks). */
export function ticksToUsd(ticks: number): number {
  return Number(new Big(ticks).div(1e10).toFixed(10));
}

/** The manual-invoke summary of a stored row (`parsed_data` decoded once). */
export function summarizeRow(row: Record<string, unknown>): AnalysisSummary {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return {
    portfolio: text(row.portfolio),
    portfolioName: text(row.portfolioName),
    timestamp: text(row.timestamp),
    dataAsOf: text(row.dataAsOf),
    model: text(row.model),
    promptVersion: typeof row.promptVersion === 'string' ? row.promptVersion : undefined,
    scores: storedScores(row.parsed_data),
    missingTickers: strings(row.missingTickers),
    staleTickers: strings(row.staleTickers),
    costUsd: typeof row.costUsd === 'number' ? row.costUsd : undefined,
  };
}

/** `{ticker, score}` of each well-formed entry of a stored `parsed_data`; none if unreadable. */
function storedScores(parsedData: unknown): { ticker: string; score: number }[] {
  try {
    const parsed = JSON.parse(String(parsedData)) as unknown;
    if (!Array.isArray(parsed)) return [];
    return (parsed as unknown[]).flatMap((e) => {
      const entry = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
      return typeof entry.ticker === 'string' && typeof entry.score === 'number'
        ? [{ ticker: entry.ticker, score: entry.score }]
        : [];
    });
  } catch {
    return [];
  }
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const r = Math.round(value * factor) / factor;
  return Object.is(r, -0) ? 0 : r;
}
