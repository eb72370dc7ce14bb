import { createAnalyzePortfoliosDeps } from '../analysis/fan-out-wiring';
import { analyzePortfoliosFlow } from '../analysis/fan-out';
import { parseAnalyzePortfoliosEvent } from '../platform/events';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createAnalyzePortfoliosDeps> | undefined;

/** Nightly schedule or manual `{}`: queues one Grok analysis per active portfolio with positions. */
export const handler = withObservability(async (event: unknown) => {
  const parsed = parseAnalyzePortfoliosEvent(event);
  deps ??= createAnalyzePortfoliosDeps();
  return analyzePortfoliosFlow(parsed, deps);
});
