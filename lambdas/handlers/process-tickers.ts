import { createProcessTickersDeps } from '../market-data/fan-out-wiring';
import { parseProcessTickersEvent } from '../platform/events';
import { processTickersFlow, type ProcessTickersDeps } from '../market-data/flows';
import { withObservability } from '../platform/with-observability';

let deps: ProcessTickersDeps | undefined;

/** Nightly schedule or manual `{}` / `{"tickers": [...]}`: queues the market-data refresh. */
export const handler = withObservability(async (event: unknown) => {
  const parsed = parseProcessTickersEvent(event);
  deps ??= createProcessTickersDeps();
  return processTickersFlow(parsed, deps);
});
