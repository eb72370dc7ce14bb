import { randomUUID } from 'node:crypto';
import { documentClient, sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { correlate, countMetric, logAt } from '../platform/observability';
import { createPortfolioRepository } from '../portfolios/portfolio-repository';
import { reportInvalidRecords } from '../portfolios/records';
import { processTickersConfig } from './config';
import type { ProcessTickersDeps } from './flows';
import type { HeldPositions, JobSender, Observability } from './ports';

/**
 * `processTickers`' wiring, apart from `wiring.ts` (processTicker's) so that the fan-out's bundle
 * holds no Polygon client, HTTP stack or secret lookup: it only reads portfolios and queues jobs.
 */

/** The flows' metrics and logs: Powertools, through the platform's helpers. */
export const observability = { count: countMetric, log: logAt, correlate } satisfies Observability;

/** Builds `processTickers`' dependencies from its environment contract, once per cold start. */
export function createProcessTickersDeps(env: NodeJS.ProcessEnv = process.env): ProcessTickersDeps {
  const config = processTickersConfig(env);
  const portfolios = createPortfolioRepository({
    client: documentClient(true),
    portfoliosTable: config.portfoliosTable,
    positionsTable: config.positionsTable,
    onInvalid: reportInvalidRecords(observability),
  });
  const queue = createJobQueue({ client: sqsClient(), queueUrl: config.tickerQueueUrl });
  return {
    holdings: portfolios satisfies HeldPositions,
    queue: queue satisfies JobSender,
    obs: observability,
    now: Date.now,
    newRunId: randomUUID,
    benchmarkTicker: config.benchmarkTicker,
  };
}
