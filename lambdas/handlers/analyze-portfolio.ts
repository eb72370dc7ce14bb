import { parseAnalyzePortfolioEvent } from '../core/events';
import { withObservability } from '../shared/with-observability';

export const handler = withObservability(async (event: unknown) => {
  const parsed = parseAnalyzePortfolioEvent(event);
  throw new Error(
    `analyze-portfolio: ${parsed.kind} events are accepted but the processing logic is not deployed yet`,
  );
});
