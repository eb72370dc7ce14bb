import type { IngestSchedules } from './ingest-schedules';
import { QueuePipeline } from './queue-pipeline';
import type { ServiceBase } from './service-functions';

/**
 * The nightly market-data refresh: processTickers (scheduled) → ticker-processing-queue (+ DLQ)
 * → processTicker. Each function's environment and grants come from lib/functions.ts.
 */
export class MarketDataPipeline extends QueuePipeline {
  constructor(base: ServiceBase, schedules: IngestSchedules) {
    const { stage } = base.config;
    super(base, schedules, {
      queueId: 'TickerQueue',
      queueName: `ticker-processing-queue-${stage}`,
      dlqName: `ticker-processing-dlq-${stage}`,
      queueRole: 'tickerQueue',
      consumerConfig: base.config.tickerQueue,
      producer: 'processTickers',
      consumer: 'processTicker',
      rule: {
        id: 'TickerRefreshRule',
        description: `Nightly market-data refresh (${stage})`,
        schedule: base.config.schedules.tickerRefresh,
      },
    });
  }
}
