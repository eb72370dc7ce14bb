import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { createAnalysisRepository } from './adapters/analysis-repository';
import { documentClient, sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { portfolioRepositoryFor } from '../portfolios/portfolio-repository';
import { reportInvalidRecords } from '../portfolios/records';
import { createTickerDataRepository } from '../market-data/adapters/ticker-data-repository';
import { createXaiClient } from './adapters/xai-client';
import { createSpendLedger } from './adapters/spend-ledger';
import type {
  AnalysisRequeue,
  AnalysisStore,
  AnalyzePortfolioDeps,
  Completions,
  FailureMarks,
  MarketRows,
  NightSpend,
  PortfolioReader,
} from './ports';
import { analysisConfig } from './config';
import { flowObservability, logger } from '../platform/observability';
import { apiKeyResolver } from '../platform/secrets';

/**
 * Builds `analyzePortfolio`'s dependencies from the environment contract, once per cold start;
 * `forInvocation(context)` binds the invocation's remaining time (the xAI client's cut-off and
 * the claim's lease). Each port is the repository or client itself (checked by `satisfies`).
 * A little over a screen: flat wiring, one adapter per port, read top to bottom.
 */
export function createAnalyzePortfolioDeps(env: NodeJS.ProcessEnv = process.env) {
  const config = analysisConfig(env);
  const plain = documentClient(false);
  const portfolios = portfolioRepositoryFor(
    config,
    reportInvalidRecords(flowObservability),
  ) satisfies PortfolioReader;
  const store = createAnalysisRepository({
    client: plain,
    analysesTable: config.analysesTable,
    stateTable: config.stateTable,
  }) satisfies AnalysisStore & FailureMarks;
  const spend = createSpendLedger({
    client: plain,
    stateTable: config.stateTable,
  }) satisfies NightSpend;
  const marketRows = createTickerDataRepository({
    client: plain,
    tableName: config.tickerDataTable,
  }) satisfies MarketRows;
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
  }) satisfies Completions;

  const requeue: AnalysisRequeue | undefined =
    config.analysisQueueUrl === undefined
      ? undefined
      : createJobQueue({ client: sqsClient(), queueUrl: config.analysisQueueUrl });

  const forInvocation = (context?: Context): AnalyzePortfolioDeps => {
    remaining = () => context?.getRemainingTimeInMillis() ?? 180_000;
    return {
      portfolios,
      marketRows,
      store,
      marks: store,
      spend,
      xai,
      runtime: {
        model: config.xaiModel,
        now: Date.now,
        remainingMs: () => remaining(),
        newId: randomUUID,
        concurrency: 8,
        spendCapUsd: config.xaiMaxUsdPerNight,
      },
      obs: flowObservability,
      requeue,
    };
  };

  return { config, forInvocation };
}
