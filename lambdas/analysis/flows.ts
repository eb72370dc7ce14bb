import Big from 'big.js';
import { z } from 'zod';
import { parseAnalysisAnswer, type AnalysisScore } from './domain/answer';
import {
  ANALYSIS_SCHEMA_NAME,
  PROMPT_VERSION,
  analysisResponseSchema,
  buildAnalysisPrompt,
  normalizeTicker,
} from './domain/prompt';
import { mapLimit } from '../platform/concurrency';
import {
  type AnalyzePortfolioEvent,
  type AnalyzePortfoliosEvent,
  type SqsRecordLike,
} from '../handlers/events';
import {
  summarizeHoldings,
  selectMarketRow,
  type Holding,
  type HoldingsSummary,
  type PositionRecord,
} from './domain/holdings';

/**
 * Portfolio analysis with Grok: the fan-out (`analyzePortfolios`) and the per-portfolio analysis
 * (`analyzePortfolio`). Pure orchestration: every read, write, clock and the xAI call are
 * injected, so the rules below are tested with plain fakes.
 */

/** Counters the flows report (published as Powertools metrics by the adapter). */
export type AnalysisMetric =
  | 'PortfoliosFound'
  | 'AnalysesQueued'
  | 'PortfoliosWithoutPositions'
  | 'AnalysesStored'
  | 'AnalysesSkipped'
  | 'AnalysisFailures'
  | 'MalformedMessages'
  | 'XaiPromptTokens'
  | 'XaiCompletionTokens'
  | 'XaiReasoningTokens'
  | 'XaiCostUsd'
  | 'XaiAuthErrors'
  | 'XaiCreditsExhausted';

/** Structured log sink (Powertools `Logger` methods fit). */
export type AnalysisLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data?: Record<string, unknown>,
) => void;

/** Metrics and logs, shared by both flows. */
export interface AnalysisObservability {
  readonly count: (metric: AnalysisMetric, value: number) => void;
  readonly log: AnalysisLog;
  /** Tags every following log line with the run's id (carried from analyzePortfolios). */
  readonly correlate: (runId: string) => void;
}

/** Body of a `portfolio-analysis-queue` message. */
export const analysisMessageSchema = z.object({
  v: z.literal(1),
  portfolioId: z.string().trim().min(1).max(100),
  runId: z.string().min(1).max(100).optional(),
  force: z.boolean().optional(),
});

/** One queued analysis. */
export type AnalysisMessage = z.infer<typeof analysisMessageSchema>;

/** A portfolio as the analysis reads it from `user-portfolios-{stage}`. */
export interface PortfolioRecord {
  readonly id: string;
  readonly name?: string;
  readonly userId?: string;
  readonly isActive?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------------------------

/** What `analyzePortfoliosFlow` needs. */
export interface AnalyzePortfoliosDeps extends AnalysisObservability {
  /** Every portfolio whose `isActive` is not false, all pages. */
  readonly activePortfolios: () => Promise<PortfolioRecord[]>;
  readonly hasPositions: (portfolioId: string) => Promise<boolean>;
  /** Batched sends; returns the messages that could not be sent, by index. */
  readonly sendMessages: (
    messages: AnalysisMessage[],
  ) => Promise<{ sent: number; failed: { index: number; reason: string }[] }>;
  readonly newRunId: () => string;
  /** Position look-ups in flight at once. */
  readonly concurrency: number;
}

/** Result of one fan-out run. */
export interface AnalyzePortfoliosResult {
  readonly runId: string;
  /** Active portfolios found. */
  readonly found: number;
  readonly queued: number;
  readonly skipped: { readonly noPositions: number };
}

/**
 * `analyzePortfolios`: queues one `{v: 1, portfolioId, runId}` message per active portfolio that
 * holds at least one position. A message that cannot be queued fails the run, saying how many
 * (it never reports success having dropped work).
 */
export async function analyzePortfoliosFlow(
  _event: AnalyzePortfoliosEvent,
  deps: AnalyzePortfoliosDeps,
): Promise<AnalyzePortfoliosResult> {
  const runId = deps.newRunId();
  deps.correlate(runId);
  const portfolios = await deps.activePortfolios();
  const withPositions = await mapLimit(portfolios, deps.concurrency, (p) =>
    deps.hasPositions(p.id),
  );
  const targets = portfolios.filter((_, i) => withPositions[i]);
  const noPositions = portfolios.length - targets.length;
  deps.count('PortfoliosFound', portfolios.length);
  deps.count('PortfoliosWithoutPositions', noPositions);

  const messages: AnalysisMessage[] = targets.map((p) => ({ v: 1, portfolioId: p.id, runId }));
  if (messages.length > 0) {
    const { failed } = await deps.sendMessages(messages);
    if (failed.length > 0) {
      const reasons = [...new Set(failed.map((f) => f.reason))].slice(0, 5).join('; ');
      throw new Error(
        `analyzePortfolios: ${failed.length} of ${messages.length} analysis messages could not be queued ` +
          `(run ${runId}); ${messages.length - failed.length} were queued. SQS said: ${reasons}`,
      );
    }
  }
  deps.count('AnalysesQueued', messages.length);
  const result: AnalyzePortfoliosResult = {
    runId,
    found: portfolios.length,
    queued: messages.length,
    skipped: { noPositions },
  };
  deps.log('info', 'Portfolio analyses queued', { ...result });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Idempotency, xAI and storage contracts
// ---------------------------------------------------------------------------------------------

/** The claim key: one analysis per portfolio, model, prompt version and data session. */
export function analysisKey(parts: {
  portfolioId: string;
  model: string;
  promptVersion: string;
  dataAsOf: string;
}): string {
  return `analysis#${parts.portfolioId}#${parts.model}#${parts.promptVersion}#${parts.dataAsOf}`;
}

/** Result of trying to claim an analysis key. */
export type ClaimResult =
  | { readonly status: 'claimed'; readonly tookOver?: 'stale' | 'forced' }
  | { readonly status: 'done'; readonly analysisTimestamp?: string }
  | { readonly status: 'in-progress'; readonly claimedAt?: string; readonly leaseUntil?: number };

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

/** How the adapter classifies an error thrown by `complete`. */
export interface XaiFailureInfo {
  readonly kind:
    | 'unavailable'
    | 'auth'
    | 'credits-exhausted'
    | 'bad-request'
    | 'refusal'
    | 'truncated'
    | 'bad-response'
    | 'other';
  readonly message: string;
  /** Usage of a billed but unusable answer (truncated, refused, malformed). */
  readonly usage?: CompletionUsage;
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

/** What `analyzePortfolioFlow` needs. */
export interface AnalyzePortfolioDeps extends AnalysisObservability {
  readonly getPortfolio: (id: string) => Promise<PortfolioRecord | undefined>;
  readonly findPortfoliosByName: (name: string) => Promise<PortfolioRecord[]>;
  /** Every position of the portfolio, all pages. */
  readonly positionsOf: (portfolioId: string) => Promise<PositionRecord[]>;
  /** The newest `ticker-data` items of a ticker (any writer's). */
  readonly latestTickerItems: (ticker: string) => Promise<Record<string, unknown>[]>;
  readonly claim: (key: string, request: ClaimRequest) => Promise<ClaimResult>;
  readonly completeClaim: (
    key: string,
    owner: string,
    done: { analysisTimestamp: string; now: number },
  ) => Promise<void>;
  readonly releaseClaim: (key: string, owner: string) => Promise<void>;
  readonly complete: (request: CompletionRequest) => Promise<CompletionResult>;
  readonly classify: (err: unknown) => XaiFailureInfo;
  /** Writes the row (never over an existing one); returns the timestamp it was stored under. */
  readonly putAnalysis: (row: AnalysisRow) => Promise<string>;
  readonly getAnalysis: (
    portfolioId: string,
    timestamp: string,
  ) => Promise<Record<string, unknown> | undefined>;
  /** The newest analysis rows of a portfolio, newest first. */
  readonly latestAnalyses: (
    portfolioId: string,
    limit: number,
  ) => Promise<Record<string, unknown>[]>;
  /** The model requested (`XAI_MODEL`). */
  readonly model: string;
  readonly now: () => number;
  /** Milliseconds left in this invocation. */
  readonly remainingMs: () => number;
  readonly newId: () => string;
  /** Ticker-data look-ups in flight at once. */
  readonly concurrency: number;
}

// ---------------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------------

/** Why an analysis did not produce a row. */
export type AnalysisFailureKind =
  | 'not-found'
  | 'ambiguous-name'
  | 'inactive'
  | 'no-positions'
  | 'no-market-data'
  | 'in-progress'
  | 'xai-unavailable'
  | 'xai-auth'
  | 'xai-credits-exhausted'
  | 'xai-bad-request'
  | 'xai-refusal'
  | 'xai-truncated'
  | 'xai-bad-response'
  | 'invalid-answer'
  | 'internal';

/**
 * For a queue record: `skip` acknowledges quietly (the portfolio is gone, inactive or empty
 * since it was queued), `poison` acknowledges loudly (ERROR + AnalysisFailures: a retry cannot
 * help), `retry` fails the record so SQS redelivers it and, after maxReceiveCount, moves it to
 * the DLQ (which alarms). Every xAI failure retries: transient ones may pass, and the permanent
 * ones (credits, key, refusal, truncation, invalid answer) must reach the DLQ.
 */
const DISPOSITION: Record<AnalysisFailureKind, 'skip' | 'poison' | 'retry'> = {
  'not-found': 'skip',
  'ambiguous-name': 'poison',
  inactive: 'skip',
  'no-positions': 'skip',
  'no-market-data': 'poison',
  'in-progress': 'skip',
  'xai-unavailable': 'retry',
  'xai-auth': 'retry',
  'xai-credits-exhausted': 'retry',
  'xai-bad-request': 'retry',
  'xai-refusal': 'retry',
  'xai-truncated': 'retry',
  'xai-bad-response': 'retry',
  'invalid-answer': 'retry',
  internal: 'retry',
};

/** An analysis that stored nothing; the message says what was wrong. */
export class AnalysisFailedError extends Error {
  override readonly name = 'AnalysisFailedError';

  constructor(
    readonly kind: AnalysisFailureKind,
    message: string,
    readonly portfolioId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** What a queue-triggered invocation does with the record. */
  get disposition(): 'skip' | 'poison' | 'retry' {
    return DISPOSITION[this.kind];
  }
}

const XAI_KINDS: Record<XaiFailureInfo['kind'], AnalysisFailureKind> = {
  unavailable: 'xai-unavailable',
  auth: 'xai-auth',
  'credits-exhausted': 'xai-credits-exhausted',
  'bad-request': 'xai-bad-request',
  refusal: 'xai-refusal',
  truncated: 'xai-truncated',
  'bad-response': 'xai-bad-response',
  other: 'internal',
};

// ---------------------------------------------------------------------------------------------
// Per-portfolio analysis
// ---------------------------------------------------------------------------------------------

/** Completion token cap for reasoning: base headroom plus about twice an entry's size per ticker. */
export const COMPLETION_TOKENS_BASE = 2_000;
/** Completion tokens allowed per scored ticker (an entry is ~70 tokens). */
export const COMPLETION_TOKENS_PER_TICKER = 150;
/** Upper bound of `max_completion_tokens`. */
export const COMPLETION_TOKENS_MAX = 16_000;
/** Newest rows searched for one an abandoned attempt stored before it died. */
export const STORED_ROW_LOOKBACK = 10;
/** Added to the invocation's deadline before a claim counts as abandoned, ms. */
export const CLAIM_LEASE_MARGIN_MS = 10_000;

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
export interface BatchAnalysisResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/**
 * `analyzePortfolio`: a queue batch analyses one portfolio per record (each in its own
 * try/catch) and reports the records to retry as batch item failures; malformed bodies are
 * logged with their messageId, counted and acknowledged. A manual `portfolio_id` /
 * `portfolio_name` invocation returns the stored (or already stored) analysis, or throws an
 * {@link AnalysisFailedError} saying what was wrong.
 */
export async function analyzePortfolioFlow(
  event: AnalyzePortfolioEvent,
  deps: AnalyzePortfolioDeps,
): Promise<BatchAnalysisResult | ManualAnalysisResult> {
  if (event.kind === 'sqs') return analyzeBatch(event.records, deps);
  const runId = `manual-${deps.newId()}`;
  deps.correlate(runId);
  let portfolio: PortfolioRecord;
  try {
    portfolio = await resolveManualTarget(event, deps);
  } catch (err) {
    const failure = toFailure(err, undefined);
    deps.log('warn', 'Manual analysis request rejected', {
      kind: failure.kind,
      error: failure.message,
      runId,
    });
    throw failure;
  }
  try {
    return await analyzePortfolio(portfolio, { force: event.force, runId }, deps);
  } catch (err) {
    throw reportFailure(toFailure(err, portfolio.id), deps, { runId });
  }
}

async function analyzeBatch(
  records: readonly SqsRecordLike[],
  deps: AnalyzePortfolioDeps,
): Promise<BatchAnalysisResult> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of records) {
    const message = parseMessage(record, deps);
    if (!message) continue;
    if (message.runId) deps.correlate(message.runId);
    const context = {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      runId: message.runId,
    };
    try {
      const portfolio = await deps.getPortfolio(message.portfolioId);
      if (!portfolio) {
        throw new AnalysisFailedError(
          'not-found',
          `Portfolio ${message.portfolioId} no longer exists`,
          message.portfolioId,
        );
      }
      await analyzePortfolio(
        portfolio,
        { force: message.force ?? false, runId: message.runId ?? `sqs-${record.messageId}` },
        deps,
      );
    } catch (err) {
      const failure = reportFailure(toFailure(err, message.portfolioId), deps, context);
      if (failure.disposition === 'retry')
        batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function parseMessage(
  record: SqsRecordLike,
  deps: AnalysisObservability,
): AnalysisMessage | undefined {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  const parsed = analysisMessageSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  deps.count('MalformedMessages', 1);
  deps.log('error', 'Malformed portfolio-analysis message acknowledged without processing', {
    messageId: record.messageId,
    bytes: record.body.length,
    problem:
      body === undefined
        ? 'body is not JSON'
        : parsed.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
  });
  return undefined;
}

async function resolveManualTarget(
  event: Extract<AnalyzePortfolioEvent, { kind: 'byId' | 'byName' }>,
  deps: AnalyzePortfolioDeps,
): Promise<PortfolioRecord> {
  let portfolio: PortfolioRecord | undefined;
  if (event.kind === 'byId') {
    portfolio = await deps.getPortfolio(event.portfolioId);
    if (!portfolio) {
      throw new AnalysisFailedError(
        'not-found',
        `No portfolio with id "${event.portfolioId}"`,
        event.portfolioId,
      );
    }
  } else {
    const matches = await deps.findPortfoliosByName(event.portfolioName);
    if (matches.length === 0) {
      throw new AnalysisFailedError('not-found', `No portfolio is named "${event.portfolioName}"`);
    }
    if (matches.length > 1) {
      const ids = [...matches]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map(
          (m) =>
            `${m.id} (user ${m.userId ?? 'unknown'}${m.isActive === false ? ', inactive' : ''})`,
        );
      throw new AnalysisFailedError(
        'ambiguous-name',
        `${matches.length} portfolios are named "${event.portfolioName}": ${ids.join(', ')}. ` +
          'Nothing was analysed; invoke again with {"portfolio_id": "<one of these ids>"}.',
      );
    }
    portfolio = matches[0];
  }
  if (portfolio.isActive === false) {
    throw new AnalysisFailedError(
      'inactive',
      `Portfolio ${portfolio.id} ("${portfolio.name ?? ''}") is inactive (isActive = false); inactive portfolios are not analysed`,
      portfolio.id,
    );
  }
  return portfolio;
}

/** What a skipped (already analysed) request says. */
function alreadyAnalysed(id: string, dataAsOf: string, model: string, row?: string): string {
  return (
    `Portfolio ${id} is already analysed for ${dataAsOf} with ${model} prompt ${PROMPT_VERSION}` +
    `${row ? ` (row ${row})` : ''}; pass "force": true to re-run`
  );
}

async function analyzePortfolio(
  portfolio: PortfolioRecord,
  opts: { force: boolean; runId: string },
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
  const positions = await deps.positionsOf(id);
  if (positions.length === 0) {
    throw new AnalysisFailedError(
      'no-positions',
      `Portfolio ${id} has no positions to analyse`,
      id,
    );
  }
  const tickers = [
    ...new Set(positions.map((p) => normalizeTicker(String(p.ticker ?? ''))).filter(Boolean)),
  ];
  const items = await mapLimit(tickers, deps.concurrency, (t) => deps.latestTickerItems(t));
  const rows = new Map(tickers.map((t, i) => [t, selectMarketRow(items[i])]));
  const summary = summarizeHoldings(positions, rows);
  if (summary.invalidPositions.length > 0) {
    deps.log('warn', 'Positions left out of the analysis', {
      portfolioId: id,
      invalidPositions: summary.invalidPositions.slice(0, 20),
    });
  }
  const { dataAsOf } = summary;
  if (dataAsOf === undefined) {
    const held = summary.holdings.map((h) => h.ticker).join(', ') || 'no valid position';
    throw new AnalysisFailedError(
      'no-market-data',
      `No market data yet for any holding of portfolio ${id} (${held}); nothing was sent to xAI. ` +
        'Run the market-data refresh (processTickers) first.',
      id,
    );
  }

  const key = analysisKey({
    portfolioId: id,
    model: deps.model,
    promptVersion: PROMPT_VERSION,
    dataAsOf,
  });
  const owner = deps.newId();
  const now = deps.now();
  const claim = await deps.claim(key, {
    owner,
    portfolioId: id,
    now,
    leaseUntil: now + deps.remainingMs() + CLAIM_LEASE_MARGIN_MS,
    force: opts.force,
  });
  if (claim.status === 'done') {
    deps.count('AnalysesSkipped', 1);
    const stored = claim.analysisTimestamp
      ? await deps.getAnalysis(id, claim.analysisTimestamp)
      : undefined;
    const message = alreadyAnalysed(id, dataAsOf, deps.model, claim.analysisTimestamp);
    deps.log('info', 'Analysis skipped: already analysed', {
      portfolioId: id,
      key,
      analysisTimestamp: claim.analysisTimestamp,
    });
    return {
      status: 'skipped',
      reason: 'already-analysed',
      message,
      analysis: stored ? summarizeRow(stored) : undefined,
    };
  }
  if (claim.status === 'in-progress') {
    throw new AnalysisFailedError(
      'in-progress',
      `Another invocation is analysing portfolio ${id} for ${dataAsOf} (claimed ${claim.claimedAt ?? 'recently'}` +
        `${claim.leaseUntil ? `, lease until ${new Date(claim.leaseUntil).toISOString()}` : ''}); not analysed twice`,
      id,
    );
  }
  if (claim.tookOver) {
    deps.log('warn', `Analysis claim taken over (${claim.tookOver})`, { portfolioId: id, key });
  }
  if (claim.tookOver === 'stale') {
    // The attempt that held the claim may have died (Lambda timeout) after storing its row and
    // before marking the claim done: that row is the analysis, not paid for or stored twice.
    const stored = (await deps.latestAnalyses(id, STORED_ROW_LOOKBACK)).find(
      (r) =>
        r.dataAsOf === dataAsOf &&
        r.requestedModel === deps.model &&
        r.promptVersion === PROMPT_VERSION,
    );
    if (stored) {
      const analysisTimestamp = String(stored.timestamp);
      await deps.completeClaim(key, owner, { analysisTimestamp, now: deps.now() });
      deps.count('AnalysesSkipped', 1);
      deps.log('warn', 'Analysis found stored by an attempt that did not finish; claim completed', {
        portfolioId: id,
        key,
        analysisTimestamp,
      });
      return {
        status: 'skipped',
        reason: 'already-analysed',
        message: alreadyAnalysed(id, dataAsOf, deps.model, analysisTimestamp),
        analysis: summarizeRow(stored),
      };
    }
  }

  try {
    const row = await runAnalysis(portfolio, summary, dataAsOf, { ...opts, key }, deps);
    const timestamp = await deps.putAnalysis(row);
    const stored = { ...row, timestamp };
    try {
      await deps.completeClaim(key, owner, { analysisTimestamp: timestamp, now: deps.now() });
    } catch (err) {
      deps.log('warn', 'Analysis stored but its claim could not be marked done', {
        portfolioId: id,
        key,
        error: describe(err),
      });
    }
    deps.count('AnalysesStored', 1);
    deps.log('info', 'Analysis stored', {
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
    return {
      status: 'stored',
      analysis: summarizeRow(stored),
    };
  } catch (err) {
    try {
      await deps.releaseClaim(key, owner);
    } catch (releaseErr) {
      deps.log('warn', 'Analysis claim could not be released; it lapses with its lease', {
        portfolioId: id,
        key,
        error: describe(releaseErr),
      });
    }
    throw err;
  }
}

async function runAnalysis(
  portfolio: PortfolioRecord,
  summary: HoldingsSummary,
  dataAsOf: string,
  opts: { force: boolean; runId: string; key: string },
  deps: AnalyzePortfolioDeps,
): Promise<AnalysisRow> {
  const id = portfolio.id;
  const portfolioName = portfolio.name ?? '';
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
    })),
    missing: summary.missing,
    dataAsOf,
    stale: summary.stale,
  });

  let completion: CompletionResult;
  try {
    completion = await deps.complete({
      system: prompt.system,
      user: prompt.user,
      schema: analysisResponseSchema(prompt.tickersToScore),
      schemaName: ANALYSIS_SCHEMA_NAME,
      maxCompletionTokens: completionTokenBudget(prompt.tickersToScore.length),
      temperature: 0,
    });
  } catch (err) {
    const info = deps.classify(err);
    if (info.usage) countUsage(info.usage, deps);
    if (info.kind === 'auth') deps.count('XaiAuthErrors', 1);
    if (info.kind === 'credits-exhausted') deps.count('XaiCreditsExhausted', 1);
    throw new AnalysisFailedError(XAI_KINDS[info.kind], info.message, id, { cause: err });
  }
  countUsage(completion.usage, deps);

  const answer = parseAnalysisAnswer(completion.content, prompt.tickersToScore);
  if (!answer.ok) {
    throw new AnalysisFailedError(
      'invalid-answer',
      `xAI answer for portfolio ${id} was rejected (${answer.error}); nothing was stored`,
      id,
    );
  }
  const byTicker = new Map(summary.holdings.map((h) => [h.ticker, h]));
  const parsed: ParsedEntry[] = answer.scores.map((s) => parsedEntry(s, byTicker.get(s.ticker)));
  const usage = completion.usage;
  return {
    portfolio: id,
    timestamp: new Date(deps.now()).toISOString(),
    portfolioName,
    model: completion.model,
    requestedModel: deps.model,
    dataAsOf,
    prompt: `[system prompt ${PROMPT_VERSION}]\n${prompt.user}`,
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
    runId: opts.runId,
    forced: opts.force,
    warnings: answer.warnings.length > 0 ? answer.warnings : undefined,
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

function countUsage(usage: CompletionUsage, deps: AnalysisObservability): void {
  deps.count('XaiPromptTokens', usage.promptTokens);
  deps.count('XaiCompletionTokens', usage.completionTokens);
  if (usage.reasoningTokens !== undefined) deps.count('XaiReasoningTokens', usage.reasoningTokens);
  if (usage.costInUsdTicks !== undefined)
    deps.count('XaiCostUsd', ticksToUsd(usage.costInUsdTicks));
}

/** xAI cost ticks to USD (1 USD = 10^10 ticks). */
export function ticksToUsd(ticks: number): number {
  return Number(new Big(ticks).div(1e10).toFixed(10));
}

/** The manual-invoke summary of a stored row (`parsed_data` decoded once). */
export function summarizeRow(row: Record<string, unknown>): AnalysisSummary {
  let scores: { ticker: string; score: number }[] = [];
  try {
    const parsed = JSON.parse(String(row.parsed_data)) as unknown;
    if (Array.isArray(parsed)) {
      scores = (parsed as unknown[]).flatMap((e) => {
        const entry = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
        return typeof entry.ticker === 'string' && typeof entry.score === 'number'
          ? [{ ticker: entry.ticker, score: entry.score }]
          : [];
      });
    }
  } catch {
    scores = [];
  }
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
    scores,
    missingTickers: strings(row.missingTickers),
    staleTickers: strings(row.staleTickers),
    costUsd: typeof row.costUsd === 'number' ? row.costUsd : undefined,
  };
}

function toFailure(err: unknown, portfolioId: string | undefined): AnalysisFailedError {
  if (err instanceof AnalysisFailedError) return err;
  return new AnalysisFailedError(
    'internal',
    `Analysis of portfolio ${portfolioId ?? '(unresolved)'} failed: ${describe(err)}`,
    portfolioId,
    { cause: err },
  );
}

/** Logs and counts a failure once, at the level its disposition calls for; returns it. */
function reportFailure(
  failure: AnalysisFailedError,
  deps: AnalysisObservability,
  context: Record<string, unknown>,
): AnalysisFailedError {
  const data = {
    portfolioId: failure.portfolioId,
    kind: failure.kind,
    error: failure.message,
    cause: failure.cause === undefined ? undefined : describe(failure.cause),
    ...context,
  };
  if (failure.disposition === 'skip') {
    deps.count('AnalysesSkipped', 1);
    deps.log('warn', `Analysis skipped (${failure.kind})`, data);
  } else {
    deps.count('AnalysisFailures', 1);
    deps.log(
      'error',
      `Analysis of portfolio ${failure.portfolioId ?? '(unresolved)'} failed (${failure.kind})` +
        (failure.disposition === 'retry' ? '; the record will be retried' : '; not retried'),
      data,
    );
  }
  return failure;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const r = Math.round(value * factor) / factor;
  return Object.is(r, -0) ? 0 : r;
}
