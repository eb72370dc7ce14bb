import { parseAnalyzePortfoliosEvent } from '../core/events';
import { withObservability } from '../shared/with-observability';

export const handler = withObservability(async (event: unknown) => {
  const parsed = parseAnalyzePortfoliosEvent(event);
  throw new Error(
    `analyze-portfolios: ${parsed.kind} events are accepted but the processing logic is not deployed yet`,
  );
});
