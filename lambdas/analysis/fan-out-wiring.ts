import { randomUUID } from 'node:crypto';
import { analysisFanOutConfig } from './config';
import type { AnalysisQueue, AnalyzePortfoliosDeps, PortfolioDirectory } from './ports';
import { sqsClient } from '../platform/aws-clients';
import { createJobQueue } from '../platform/job-queue';
import { createConsumerScaler, lambdaClient } from './adapters/consumer-scaler';
import { flowObservability } from '../platform/observability';
import { portfolioRepositoryFor } from '../portfolios/portfolio-repository';
import { reportInvalidRecords } from '../portfolios/records';

/**
 * Builds `analyzePortfolios`' dependencies from the environment contract, once per cold start.
 * A module of its own, apart from `wiring.ts`, so the fan-out bundles neither the xAI HTTP client
 * nor the secrets code. The Lambda client is only its UpdateEventSourceMapping command.
 */
export function createAnalyzePortfoliosDeps(
  env: NodeJS.ProcessEnv = process.env,
): AnalyzePortfoliosDeps {
  const config = analysisFanOutConfig(env);
  const portfolios = portfolioRepositoryFor(
    config,
    reportInvalidRecords(flowObservability),
  ) satisfies PortfolioDirectory;
  const queue = createJobQueue({
    client: sqsClient(),
    queueUrl: config.analysisQueueUrl,
  }) satisfies AnalysisQueue;
  return {
    portfolios,
    queue,
    obs: flowObservability,
    newRunId: randomUUID,
    concurrency: 16,
    pacing: {
      limits: config.pacing,
      now: Date.now,
      scaler:
        config.eventSourceMappingId === undefined
          ? undefined
          : createConsumerScaler({
              client: lambdaClient(),
              mappingId: config.eventSourceMappingId,
            }),
    },
  };
}
