import type { Context } from 'aws-lambda';
import { createProcessTickerDeps } from '../market-data/wiring';
import { parseProcessTickerEvent } from '../platform/events';
import { processTickerFlow } from '../market-data/flows';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createProcessTickerDeps> | undefined;

/** ticker-processing-queue batches (partial batch failures) or a manual `{"ticker": "NVDA"}`. */
export const handler = withObservability(async (event: unknown, context: Context) => {
  const parsed = parseProcessTickerEvent(event);
  deps ??= createProcessTickerDeps();
  return processTickerFlow(parsed, deps(context));
});
