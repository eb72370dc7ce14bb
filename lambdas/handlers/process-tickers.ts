import { parseProcessTickersEvent } from '../core/events';
import { withObservability } from '../shared/with-observability';

export const handler = withObservability(async (event: unknown) => {
  const parsed = parseProcessTickersEvent(event);
  throw new Error(`process-tickers: ${parsed.kind} events are accepted but the processing logic is not deployed yet`);
});
