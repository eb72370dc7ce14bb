import type { QueuePipelineSpec } from './queue-pipeline';

/**
 * The nightly Grok analysis: analyzePortfolios (scheduled) → portfolio-analysis-queue (+ DLQ)
 * → analyzePortfolio. Built by `QueuePipeline` (the shape it shares with the market-data
 * pipeline); each function's environment and grants come from lib/functions.ts.
 */
export const ANALYSIS_PIPELINE: QueuePipelineSpec = {
  queue: { id: 'AnalysisQueue', name: 'portfolio-analysis', role: 'analysisQueue' },
  functions: ['analyzePortfolios', 'analyzePortfolio'],
  rule: { id: 'AnalysisRule', schedule: 'analysis', what: 'Nightly portfolio analysis' },
};
