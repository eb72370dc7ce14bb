import { parseProcessTickerEvent } from '../core/events';
import { withObservability } from '../shared/with-observability';

export const handler = withObservability(async (event: unknown) => {
  const parsed = parseProcessTickerEvent(event);
  throw new Error(`process-ticker: ${parsed.kind} events are accepted but the processing logic is not deployed yet`);
});
