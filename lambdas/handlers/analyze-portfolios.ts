import { createAnalyzePortfoliosDeps } from '../adapters/analysis-deps';
import { analyzePortfoliosFlow } from '../core/analysis-flows';
import { parseAnalyzePortfoliosEvent } from '../core/events';
import { withObservability } from '../shared/with-observability';

let deps: ReturnType<typeof createAnalyzePortfoliosDeps> | undefined;

/** Nightly schedule or manual `{}`: queues one Grok analysis per active portfolio with positions. */
export const handler = withObservability(async (event: unknown) => {
  const parsed = parseAnalyzePortfoliosEvent(event);
  deps ??= createAnalyzePortfoliosDeps();
  return analyzePortfoliosFlow(parsed, deps);
});
