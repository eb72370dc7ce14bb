import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { createPolygonClient, type PolygonClient } from './adapters/polygon-client';
import { documentClient, sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { createNoDataMemo } from './adapters/no-data-memo';
import { createParkedRows } from './adapters/parked-rows';
import { createFinishCursor } from './adapters/finish-cursor';
import { createPortfolioRepository } from '../portfolios/portfolio-repository';
import { reportInvalidRecords } from '../portfolios/records';
import { createRequestBudget, type RequestBudget } from './adapters/request-budget';
import { createRefreshMarker } from './adapters/refresh-marker';
import { createTickerDataRepository } from './adapters/ticker-data-repository';
import type { ProcessTickerDeps } from './flows';
import type {
  Deferrals,
  FinishCursor,
  HeldPositions,
  JobRuntime,
  NoDataMemo,
  ParkedRows,
  PositionPrices,
  RefreshMarker,
  SessionBars,
  SplitEvents,
  TickerHistory,
} from './ports';
import { countMetric, logAt, logger } from '../platform/observability';
import type { MetricName } from '../platform/metrics';
import { apiKeyResolver } from '../platform/secrets';
import { processTickerConfig, type ProcessTickerConfig } from './config';
import { observability } from './fan-out-wiring';

/** The Polygon client's per-attempt counters. */
const count = (metric: MetricName, value: number) => countMetric(metric, value);

/**
 * `processTicker`'s wiring: builds the adapters from its environment contract once per cold
 * start; each implements one of the refresh job's ports itself (checked with `satisfies`).
 * Returns a function that binds them to an invocation (its remaining time).
 */
export function createProcessTickerDeps(
  env: NodeJS.ProcessEnv = process.env,
): (context?: Context) => ProcessTickerDeps {
  const config = processTickerConfig(env);
  const plainClient = documentClient(false);
  const adapters = {
    history: createTickerDataRepository({
      client: plainClient,
      tableName: config.tickerDataTable,
    }) satisfies TickerHistory,
    // Symbols a run found without data for a session, so that a re-run of it spends no call on them.
    noData: createNoDataMemo({
      client: plainClient,
      tableName: config.stateTable,
    }) satisfies NoDataMemo,
    // What a deferred job fetched, kept until its last invocation writes each row once.
    parked: createParkedRows({
      client: plainClient,
      tableName: config.stateTable,
    }) satisfies ParkedRows,
    // How far a parked job's finishing invocations have written (one chunk at a time).
    finishCursor: createFinishCursor({
      client: plainClient,
      tableName: config.stateTable,
    }) satisfies FinishCursor,
    positions: createPortfolioRepository({
      client: documentClient(true),
      portfoliosTable: config.portfoliosTable,
      positionsTable: config.positionsTable,
      onInvalid: reportInvalidRecords(observability),
    }) satisfies PositionPrices & HeldPositions,
    deferrals: createJobQueue({
      client: sqsClient(),
      queueUrl: config.tickerQueueUrl,
    }) satisfies Deferrals,
  };
  const marker = createRefreshMarker({ client: plainClient, tableName: config.stateTable });
  let remaining: () => number = () => 900_000;
  const bars = polygonClient(config, env, () => remaining()) satisfies SessionBars & SplitEvents;
  return (context) => {
    remaining = () => context?.getRemainingTimeInMillis() ?? 900_000;
    const runtime: JobRuntime = { now: Date.now, remainingMs: () => remaining(), log: logAt };
    return {
      job: { ...adapters, bars, splits: bars, held: adapters.positions, runtime },
      marker: marker satisfies RefreshMarker,
      obs: observability,
      newRunId: () => `manual-${randomUUID()}`,
    };
  };
}

/**
 * The Polygon client, taking a permit of the key's request budget before every attempt: the key
 * is resolved first, and the budget is the one of that key (`budget#polygon#<hash>` in the
 * budget table), so a rotated key gets its own budget and stages sharing a key and a budget
 * table share one budget.
 */
function polygonClient(
  config: ProcessTickerConfig,
  env: NodeJS.ProcessEnv,
  remainingMs: () => number,
): PolygonClient {
  const budgets = new Map<string, RequestBudget>();
  const budgetOf = (apiKey: string) => {
    let budget = budgets.get(apiKey);
    if (!budget) {
      budget = createRequestBudget({
        client: documentClient(false),
        tableName: config.polygonBudgetTable,
        limit: config.polygonRequestsPerMinute,
        windowMs: config.polygonBudgetWindowMs,
        marginMs: Math.min(1_500, config.polygonBudgetWindowMs / 40),
        apiKey,
      });
      budgets.set(apiKey, budget);
    }
    return budget;
  };
  return createPolygonClient({
    baseUrl: config.polygonBaseUrl,
    apiKey: apiKeyResolver('POLYGON_API_KEY', env),
    timeoutMs: config.polygonTimeoutMs,
    remainingMs,
    beforeAttempt: (apiKey) => budgetOf(apiKey).acquire(),
    onResponse: (info) => {
      count('PolygonHttpRequests', 1);
      if (info.status === 429) count('Polygon429s', 1);
      if (info.status === 401) count('PolygonAuthErrors', 1);
    },
    logger,
  });
}
