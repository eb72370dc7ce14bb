import type { QueuePipelineSpec } from './queue-pipeline';

/**
 * The nightly market-data refresh: processTickers (scheduled) → ticker-processing-queue (+ DLQ)
 * → processTicker. Built by `QueuePipeline` (the shape it shares with the analysis pipeline);
 * each function's environment and grants come from lib/functions.ts.
 */
export const MARKET_DATA_PIPELINE: QueuePipelineSpec = {
  queue: { id: 'TickerQueue', name: 'ticker-processing', role: 'tickerQueue' },
  functions: ['processTickers', 'processTicker'],
  rule: { id: 'TickerRefreshRule', schedule: 'tickerRefresh', what: 'Nightly market-data refresh' },
};
