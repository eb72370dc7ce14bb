import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { createAnalysisRepository, createPortfolioLookup } from './adapters/analysis-repository';
import { documentClient, sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { createPortfolioRepository } from '../portfolios/portfolio-repository';
import { createTickerDataRepository } from '../market-data/adapters/ticker-data-repository';
import { classifyXaiError, createXaiClient } from './adapters/xai-client';
import type {
  AnalysisLog,
  AnalysisMetric,
  AnalyzePortfolioDeps,
  AnalyzePortfoliosDeps,
} from './flows';
import { analysisConfig, analysisFanOutConfig } from './config';
import { correlate, countMetric, logAt, logger, MetricUnit } from '../platform/observability';
import { apiKeyResolver } from '../platform/secrets';

/** Rows read per ticker: the newest own row is normally the first; room for old Python rows. */
const TICKER_ROWS_READ = 10;

// Kept under its old import path; it lives next to XaiError now.
export { classifyXaiError };

const count = (metric: AnalysisMetric, value: number) =>
  countMetric(metric, value, metric === 'XaiCostUsd' ? MetricUnit.NoUnit : MetricUnit.Count);
const log: AnalysisLog = logAt;

/** Builds `analyzePortfolios`' dependencies from the environment contract, once per cold start. */
export function createAnalyzePortfoliosDeps(
  env: NodeJS.ProcessEnv = process.env,
): AnalyzePortfoliosDeps {
  const config = analysisFanOutConfig(env);
  const portfolios = createPortfolioRepository({
    client: documentClient(true),
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
  });
  const lookup = createPortfolioLookup({
    client: documentClient(false),
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
  });
  const queue = createJobQueue({ client: sqsClient(), queueUrl: config.analysisQueueUrl });
  return {
    activePortfolios: () => portfolios.activePortfolios(),
    hasPositions: (id) => lookup.hasPositions(id),
    sendMessages: (messages) => queue.sendAll(messages),
    newRunId: randomUUID,
    concurrency: 16,
    count,
    log,
    correlate,
  };
}

/**
 * Builds `analyzePortfolio`'s dependencies from the environment contract, once per cold start;
 * `forInvocation(context)` binds the invocation's remaining time (the xAI client's cut-off and
 * the claim's lease).
 */
export function createAnalyzePortfolioDeps(env: NodeJS.ProcessEnv = process.env) {
  const config = analysisConfig(env);
  const plain = documentClient(false);
  const portfolios = createPortfolioRepository({
    client: documentClient(true),
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
  });
  const analyses = createAnalysisRepository({
    client: plain,
    analysesTable: config.analysesTable,
    stateTable: config.stateTable,
  });
  const lookup = createPortfolioLookup({
    client: plain,
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
  });
  const tickerData = createTickerDataRepository({
    client: plain,
    tableName: config.tickerDataTable,
  });
  let remaining: () => number = () => 180_000;
  const xai = createXaiClient({
    url: config.xaiApiUrl,
    apiKey: apiKeyResolver('XAI_API_KEY', env),
    model: config.xaiModel,
    timeoutMs: config.xaiTimeoutMs,
    maxAttempts: config.xaiMaxAttempts,
    baseDelayMs: config.xaiRetryBaseMs,
    maxDelayMs: config.xaiRetryMaxMs,
    remainingMs: () => remaining(),
    logger,
  });

  const forInvocation = (context?: Context): AnalyzePortfolioDeps => {
    remaining = () => context?.getRemainingTimeInMillis() ?? 180_000;
    return {
      getPortfolio: (id) => lookup.getPortfolio(id),
      findPortfoliosByName: (name) => lookup.findPortfoliosByName(name),
      positionsOf: (id) => portfolios.positionsOf(id),
      latestTickerItems: (ticker) => tickerData.latestRows(ticker, TICKER_ROWS_READ),
      claim: (key, request) => analyses.claim(key, request),
      completeClaim: (key, owner, done) => analyses.completeClaim(key, owner, done),
      releaseClaim: (key, owner) => analyses.releaseClaim(key, owner),
      complete: (request) => xai.complete(request),
      classify: classifyXaiError,
      putAnalysis: (row) => analyses.putAnalysis(row),
      getAnalysis: (id, timestamp) => analyses.getAnalysis(id, timestamp),
      latestAnalyses: (id, limit) => analyses.latestAnalyses(id, limit),
      model: config.xaiModel,
      now: Date.now,
      remainingMs: () => remaining(),
      newId: randomUUID,
      concurrency: 8,
      count,
      log,
      correlate,
    };
  };

  return { config, forInvocation };
}
