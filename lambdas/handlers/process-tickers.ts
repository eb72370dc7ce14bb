import { createMarketDataDeps } from '../adapters/market-data-deps';
import { parseProcessTickersEvent } from '../core/events';
import { processTickersFlow } from '../core/market-data-flows';
import { withObservability } from '../shared/with-observability';

let deps: ReturnType<typeof createMarketDataDeps> | undefined;

/** Nightly schedule or manual `{}` / `{"tickers": [...]}`: queues the market-data refresh. */
export const handler = withObservability(async (event: unknown) => {
  const parsed = parseProcessTickersEvent(event);
  deps ??= createMarketDataDeps();
  return processTickersFlow(parsed, deps.processTickers);
});
