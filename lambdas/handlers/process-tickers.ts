import { createMarketDataDeps } from '../market-data/wiring';
import { parseProcessTickersEvent } from './events';
import { processTickersFlow } from '../market-data/flows';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createMarketDataDeps> | undefined;

/** Nightly schedule or manual `{}` / `{"tickers": [...]}`: queues the market-data refresh. */
export const handler = withObservability(async (event: unknown) => {
  const parsed = parseProcessTickersEvent(event);
  deps ??= createMarketDataDeps();
  return processTickersFlow(parsed, deps.processTickers);
});
