import type { AnalyzePortfoliosEvent } from '../platform/events';
import { mapLimit } from '../platform/concurrency';
import type { AnalyzePortfoliosDeps } from './ports';
import type { AnalysisMessage, AnalyzePortfoliosResult } from './types';

/**
 * `analyzePortfolios`: queues one `{v: 1, portfolioId, runId}` message per active portfolio that
 * holds at least one position. A message that cannot be queued fails the run, saying how many
 * (it never reports success having dropped work).
 */
export async function analyzePortfoliosFlow(
  _event: AnalyzePortfoliosEvent,
  deps: AnalyzePortfoliosDeps,
): Promise<AnalyzePortfoliosResult> {
  const { portfolios: directory, obs } = deps;
  const runId = deps.newRunId();
  obs.correlate(runId);
  const portfolios = await directory.activePortfolios();
  const withPositions = await mapLimit(portfolios, deps.concurrency, (p) =>
    directory.hasPositions(p.id),
  );
  const targets = portfolios.filter((_, i) => withPositions[i]);
  const noPositions = portfolios.length - targets.length;
  obs.count('PortfoliosFound', portfolios.length);
  obs.count('PortfoliosWithoutPositions', noPositions);

  const messages: AnalysisMessage[] = targets.map((p) => ({ v: 1, portfolioId: p.id, runId }));
  if (messages.length > 0) {
    const { failed } = await deps.queue.sendAll(messages);
    if (failed.length > 0) {
      const reasons = [...new Set(failed.map((f) => f.reason))].slice(0, 5).join('; ');
      throw new Error(
        `analyzePortfolios: ${failed.length} of ${messages.length} analysis messages could not be queued ` +
          `(run ${runId}); ${messages.length - failed.length} were queued. SQS said: ${reasons}`,
      );
    }
  }
  obs.count('AnalysesQueued', messages.length);
  const result: AnalyzePortfoliosResult = {
    runId,
    found: portfolios.length,
    queued: messages.length,
    skipped: { noPositions },
  };
  obs.log('info', 'Portfolio analyses queued', { ...result });
  return result;
}
