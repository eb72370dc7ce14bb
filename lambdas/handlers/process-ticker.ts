import type { Context } from 'aws-lambda';
import { createMarketDataDeps } from '../market-data/wiring';
import { parseProcessTickerEvent } from './events';
import { processTickerFlow } from '../market-data/flows';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createMarketDataDeps> | undefined;

/** ticker-processing-queue batches (partial batch failures) or a manual `{"ticker": "NVDA"}`. */
export const handler = withObservability(async (event: unknown, context: Context) => {
  const parsed = parseProcessTickerEvent(event);
  deps ??= createMarketDataDeps();
  return processTickerFlow(parsed, deps.processTicker(context));
});
