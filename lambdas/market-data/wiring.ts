import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import {
  classifyUpstreamError,
  createPolygonClient,
  type PolygonClient,
} from './adapters/polygon-client';
import { documentClient, sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { createNoDataMemo } from './adapters/no-data-memo';
import { createPortfolioRepository } from '../portfolios/portfolio-repository';
import { createRequestBudget } from './adapters/request-budget';
import { createRefreshMarker } from './adapters/refresh-marker';
import { createTickerDataRepository } from './adapters/ticker-data-repository';
import type { MarketMetric, ProcessTickerDeps, ProcessTickersDeps } from './flows';
import type { RefreshJobDeps } from './refresh-job';
import { correlate, logger, metrics, MetricUnit } from '../platform/observability';
import { marketDataConfig } from '../platform/config';
import { apiKeyResolver } from '../platform/secrets';

// Kept under its old import path; it lives next to PolygonError now.
export { classifyUpstreamError };

const count = (
  metric: MarketMetric | 'PolygonHttpRequests' | 'Polygon429s' | 'PolygonAuthErrors',
  value: number,
) => {
  if (value > 0) metrics.addMetric(metric, MetricUnit.Count, value);
};
const log: RefreshJobDeps['log'] = (level, message, data) => logger[level](message, data ?? {});

/**
 * Builds the market-data dependencies from the environment contract, once per cold start.
 * Per-invocation values (the remaining time) are bound in `jobDeps(context)`.
 */
export function createMarketDataDeps(env: NodeJS.ProcessEnv = process.env) {
  const config = marketDataConfig(env);
  const exactClient = documentClient(true);
  const plainClient = documentClient(false);
  const portfolios = createPortfolioRepository({
    client: exactClient,
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
  });
  const tickerData = createTickerDataRepository({
    client: plainClient,
    tableName: config.tickerDataTable,
  });
  // Symbols a run found without data for a session, so that a re-run of it spends no call on them.
  const noDataMemo = createNoDataMemo({ client: plainClient, tableName: config.stateTable });
  const queue = createJobQueue({ client: sqsClient(), queueUrl: config.tickerQueueUrl });
  const marker = createRefreshMarker({ client: plainClient, tableName: config.stateTable });
  const budget = createRequestBudget({
    client: plainClient,
    tableName: config.stateTable,
    limit: config.polygonRequestsPerMinute,
    windowMs: config.polygonBudgetWindowMs,
    marginMs: Math.min(1_500, config.polygonBudgetWindowMs / 40),
  });
  const apiKey = apiKeyResolver('POLYGON_API_KEY', env);
  let remaining: () => number = () => 900_000;
  const polygon: PolygonClient = createPolygonClient({
    baseUrl: config.polygonBaseUrl,
    apiKey,
    timeoutMs: config.polygonTimeoutMs,
    remainingMs: () => remaining(),
    beforeAttempt: () => budget.acquire(),
    onResponse: (info) => {
      count('PolygonHttpRequests', 1);
      if (info.status === 429) count('Polygon429s', 1);
      if (info.status === 401) count('PolygonAuthErrors', 1);
    },
    logger,
  });

  const processTickers: ProcessTickersDeps = {
    heldTickers: async () =>
      (await portfolios.activePositions()).flatMap(({ positions }) =>
        positions.map((p) => ({ raw: p.ticker, portfolioId: p.portfolioId, positionId: p.id })),
      ),
    sendJobs: (jobs) => queue.sendAll(jobs),
    now: Date.now,
    newRunId: randomUUID,
    count,
    log,
    correlate,
  };

  const jobDeps = (context?: Context): RefreshJobDeps => {
    remaining = () => context?.getRemainingTimeInMillis() ?? 900_000;
    return {
      fetchGrouped: (date) => polygon.groupedDaily(date),
      fetchRange: (ticker, from, to) => polygon.dailyRange(ticker, from, to),
      classify: classifyUpstreamError,
      latestRows: (ticker, limit) => tickerData.latestRows(ticker, limit),
      putRows: (rows) => tickerData.putRows(rows),
      defer: (job, delaySeconds) => queue.send(job, delaySeconds),
      reprice: (prices) => portfolios.reprice(prices),
      knownNoData: (tickers, session) => noDataMemo.known(tickers, session),
      recordNoData: (tickers, session) => noDataMemo.record(tickers, session),
      now: Date.now,
      remainingMs: () => remaining(),
      log,
    };
  };

  const processTicker = (context?: Context): ProcessTickerDeps => ({
    jobDeps: () => jobDeps(context),
    now: Date.now,
    newRunId: () => `manual-${randomUUID()}`,
    recordRefreshed: (session, summary) => marker.record(session, summary),
    count,
    log,
    correlate,
  });

  return { config, processTickers, processTicker };
}
