import type { Context } from 'aws-lambda';
import { createMarketDataDeps } from '../adapters/market-data-deps';
import { parseProcessTickerEvent } from '../core/events';
import { processTickerFlow } from '../core/market-data-flows';
import { withObservability } from '../shared/with-observability';

let deps: ReturnType<typeof createMarketDataDeps> | undefined;

/** ticker-processing-queue batches (partial batch failures) or a manual `{"ticker": "NVDA"}`. */
export const handler = withObservability(async (event: unknown, context: Context) => {
  const parsed = parseProcessTickerEvent(event);
  deps ??= createMarketDataDeps();
  return processTickerFlow(parsed, deps.processTicker(context));
});
