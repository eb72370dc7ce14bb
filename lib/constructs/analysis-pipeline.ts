import type { IngestSchedules } from './ingest-schedules';
import { QueuePipeline } from './queue-pipeline';
import type { ServiceBase } from './service-functions';

/**
 * The nightly Grok analysis: analyzePortfolios (scheduled) → portfolio-analysis-queue (+ DLQ)
 * → analyzePortfolio. Each function's environment and grants come from lib/functions.ts.
 */
export class AnalysisPipeline extends QueuePipeline {
  constructor(base: ServiceBase, schedules: IngestSchedules) {
    const { stage } = base.config;
    super(base, schedules, {
      queueId: 'AnalysisQueue',
      queueName: `portfolio-analysis-queue-${stage}`,
      dlqName: `portfolio-analysis-dlq-${stage}`,
      queueRole: 'analysisQueue',
      consumerConfig: base.config.analysisQueue,
      producer: 'analyzePortfolios',
      consumer: 'analyzePortfolio',
      rule: {
        id: 'AnalysisRule',
        description: `Nightly portfolio analysis (${stage})`,
        schedule: base.config.schedules.analysis,
      },
    });
  }
}
