import type { Context } from 'aws-lambda';
import { createAnalyzePortfolioDeps } from '../analysis/wiring';
import { analyzePortfolioFlow } from '../analysis/flows';
import { parseAnalyzePortfolioEvent } from '../platform/events';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createAnalyzePortfolioDeps> | undefined;

/**
 * portfolio-analysis-queue batches (partial batch failures), or a manual `{"portfolio_id"}` /
 * `{"portfolio_name"}` (+ `"force": true`) that returns the stored analysis or throws.
 */
export const handler = withObservability(async (event: unknown, context: Context) => {
  const parsed = parseAnalyzePortfolioEvent(event);
  deps ??= createAnalyzePortfolioDeps();
  return analyzePortfolioFlow(parsed, deps.forInvocation(context));
});
