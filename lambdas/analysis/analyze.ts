import { mapLimit } from '../platform/concurrency';
import type { Portfolio } from '../portfolios/portfolio-repository';
import { analysisRow, completionTokenBudget, summarizeRow, ticksToUsd } from './analysis-row';
import { analysisKey, withClaim } from './claim';
import { parseAnalysisAnswer } from './domain/answer';
import { selectMarketRow, summarizeHoldings, type HoldingsSummary } from './domain/holdings';
import {
  ANALYSIS_SCHEMA_NAME,
  PROMPT_VERSION,
  analysisResponseSchema,
  buildAnalysisPrompt,
  type AnalysisPrompt,
} from './domain/prompt';
import { MAX_HOLDINGS_PER_ANALYSIS, cleanPortfolioName } from './domain/user-text';
import { normaliseTicker } from '../platform/events';
import { errorText } from '../platform/text';
import { AnalysisFailedError, XAI_KINDS } from './failures';
import { withPaidGuard } from './paid-guard';
import { admitCall, recordSpend } from './spend-cap';
import {
  isCompletionFailure,
  type AnalysisObservability,
  type AnalyzePortfolioDeps,
} from './ports';
import type {
  AnalysisRow,
  CompletionResult,
  CompletionUsage,
  PortfolioAnalysisOutcome,
} from './types';

/**
 * One portfolio's analysis as a sequence of named steps: check it is active, load its holdings
 * with their market data, require a data session, then, under the idempotency claim, ask xAI,
 * validate the answer and store the row.
 */

/**
 * Rows read per ticker: the newest own row is normally the first; 30 sessions back for a recent
 * split (RECENT_SPLIT_SESSIONS), with room for old Python rows.
 */
export const TICKER_ROWS_READ = 40;

/** Options of one analysis. */
export interface AnalysisOptions {
  readonly force: boolean;
  readonly runId: string;
  /** A queue record (its paid defects are not paid for again: paid-guard.ts). */
  readonly queued: boolean;
}

/** Analyses one portfolio; throws an {@link AnalysisFailedError} (or an internal error). */
export async function analyzePortfolio(
  portfolio: Portfolio,
  opts: AnalysisOptions,
  deps: AnalyzePortfolioDeps,
): Promise<PortfolioAnalysisOutcome> {
  const id = portfolio.id;
  if (portfolio.isActive === false) {
    throw new AnalysisFailedError(
      'inactive',
      `Portfolio ${id} became inactive after it was queued`,
      id,
    );
  }
  const summary = await loadHoldings(id, deps);
  const dataAsOf = requireDataAsOf(id, summary);
  const key = analysisKey({
    portfolioId: id,
    model: deps.runtime.model,
    promptVersion: PROMPT_VERSION,
    dataAsOf,
  });
  const guarded = { portfolioId: id, key, runId: opts.runId, queued: opts.queued };
  const claimed = await withClaim({ key, portfolioId: id, dataAsOf, force: opts.force }, deps, () =>
    withPaidGuard(guarded, deps, () => scorePortfolio(portfolio, summary, dataAsOf, opts, deps)),
  );
  if (claimed.status === 'skipped') return claimed;
  const { row, timestamp } = claimed;
  deps.obs.count('AnalysesStored', 1);
  deps.obs.log('info', 'Analysis stored', {
    portfolioId: id,
    // `timestamp` is a reserved Powertools log key (it would be dropped with a warning).
    analysisTimestamp: timestamp,
    dataAsOf,
    model: row.model,
    holdings: summary.holdings.length,
    missing: summary.missing,
    stale: summary.stale,
    costUsd: row.costUsd,
  });
  return { status: 'stored', analysis: summarizeRow({ ...row, timestamp }) };
}

/** The portfolio's positions summarised per ticker with each ticker's newest market data. */
async function loadHoldings(id: string, deps: AnalyzePortfolioDeps): Promise<HoldingsSummary> {
  const positions = await deps.portfolios.positionsOf(id);
  if (positions.length === 0) {
    throw new AnalysisFailedError(
      'no-positions',
      `Portfolio ${id} has no positions to analyse`,
      id,
    );
  }
  const symbols = positions.map((p) => normaliseTicker(p.ticker));
  const tickers = [...new Set(symbols.flatMap((t) => (t.ok ? [t.ticker] : [])))];
  const items = await mapLimit(tickers, deps.runtime.concurrency, (t) =>
    deps.marketRows.latestRows(t, TICKER_ROWS_READ),
  );
  const rows = new Map(tickers.map((t, i) => [t, selectMarketRow(items[i])]));
  const summary = summarizeHoldings(positions, rows);
  if (summary.invalidPositions.length > 0) {
    deps.obs.log('warn', 'Positions left out of the analysis', {
      portfolioId: id,
      invalidPositions: summary.invalidPositions.slice(0, 20),
    });
  }
  if (summary.holdings.length > MAX_HOLDINGS_PER_ANALYSIS) {
    throw new AnalysisFailedError(
      'too-many-holdings',
      `Portfolio ${id} holds ${summary.holdings.length} tickers, over the ${MAX_HOLDINGS_PER_ANALYSIS} one analysis scores ` +
        '(MAX_HOLDINGS_PER_ANALYSIS: the most whose answer fits the completion budget); nothing was sent to xAI. ' +
        'Split the holdings across portfolios of at most that many tickers.',
      id,
    );
  }
  return summary;
}

/** The session the analysis is of; without any market data nothing is sent to xAI. */
function requireDataAsOf(id: string, summary: HoldingsSummary): string {
  if (summary.dataAsOf !== undefined) return summary.dataAsOf;
  const held = summary.holdings.map((h) => h.ticker).join(', ') || 'no valid position';
  throw new AnalysisFailedError(
    'no-market-data',
    `No market data yet for any holding of portfolio ${id} (${held}); nothing was sent to xAI. ` +
      'Run the market-data refresh (processTickers) first.',
    id,
  );
}

/** Asks xAI, validates the answer and builds the row (not stored yet). */
async function scorePortfolio(
  portfolio: Portfolio,
  summary: HoldingsSummary,
  dataAsOf: string,
  opts: AnalysisOptions,
  deps: AnalyzePortfolioDeps,
): Promise<AnalysisRow> {
  const id = portfolio.id;
  const portfolioName = cleanPortfolioName(portfolio.name);
  const prompt = buildAnalysisPrompt({
    portfolioName,
    holdings: summary.holdings.map((h) => ({
      ticker: h.ticker,
      price: h.data?.price,
      rsi: h.data?.rsi,
      ma50: h.data?.ma50,
      asOf: h.data?.asOf,
      weightPercent: h.weightPercent,
      plPercent: h.plPercent,
      recentSplit: h.data?.recentSplit,
    })),
    missing: summary.missing,
    dataAsOf,
    stale: summary.stale,
  });
  const completion = await askXai(id, prompt, opts, deps);
  const answer = parseAnalysisAnswer(completion.content, prompt.tickersToScore);
  if (!answer.ok) {
    throw new AnalysisFailedError(
      'invalid-answer',
      `xAI answer for portfolio ${id} was rejected (${answer.error}); nothing was stored`,
      id,
    );
  }
  if (answer.warnings.length > 0) {
    deps.obs.log('warn', 'xAI answer repaired or reshaped before storing', {
      portfolioId: id,
      warnings: answer.warnings,
    });
  }
  const input = { portfolioId: id, portfolioName, summary, dataAsOf, userPrompt: prompt.user };
  return analysisRow(
    {
      ...input,
      scores: answer.scores,
      warnings: answer.warnings,
      requestedModel: deps.runtime.model,
      runId: opts.runId,
      force: opts.force,
      now: deps.runtime.now(),
    },
    completion,
  );
}

/**
 * One completion, if the night's spend cap admits it (spend-cap.ts); usage is counted and its
 * cost added to the night's spend, billed answer or failed one, and a failure is mapped by kind.
 */
async function askXai(
  id: string,
  prompt: AnalysisPrompt,
  opts: AnalysisOptions,
  deps: AnalyzePortfolioDeps,
): Promise<CompletionResult> {
  const night = await admitCall({ portfolioId: id, queued: opts.queued, force: opts.force }, deps);
  let completion: CompletionResult;
  try {
    completion = await deps.xai.complete({
      system: prompt.system,
      user: prompt.user,
      schema: analysisResponseSchema(prompt.tickersToScore),
      schemaName: ANALYSIS_SCHEMA_NAME,
      maxCompletionTokens: completionTokenBudget(prompt.tickersToScore.length),
      temperature: 0,
    });
  } catch (err) {
    const failure = isCompletionFailure(err) ? err : undefined;
    const kind = failure?.kind ?? 'other';
    if (failure?.usage) countUsage(failure.usage, deps.obs);
    await recordSpend(id, night, failure?.usage, deps);
    if (kind === 'auth') deps.obs.count('XaiAuthErrors', 1);
    if (kind === 'credits-exhausted') deps.obs.count('XaiCreditsExhausted', 1);
    // A 429 that is a rate limit (not credits: those are `credits-exhausted`) is paced, not failed.
    const rateLimited = kind === 'unavailable' && failure?.status === 429;
    const failureKind = rateLimited ? 'xai-rate-limited' : (XAI_KINDS[kind] ?? 'internal');
    throw new AnalysisFailedError(failureKind, errorText(err), id, {
      cause: err,
      retryAfterMs: failure?.retryAfterMs,
    });
  }
  countUsage(completion.usage, deps.obs);
  await recordSpend(id, night, completion.usage, deps);
  return completion;
}

function countUsage(usage: CompletionUsage, obs: AnalysisObservability): void {
  obs.count('XaiPromptTokens', usage.promptTokens);
  obs.count('XaiCompletionTokens', usage.completionTokens);
  if (usage.reasoningTokens !== undefined) obs.count('XaiReasoningTokens', usage.reasoningTokens);
  if (usage.costInUsdTicks !== undefined) obs.count('XaiCostUsd', ticksToUsd(usage.costInUsdTicks));
}
