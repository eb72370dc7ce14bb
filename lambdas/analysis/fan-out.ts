import type { AnalyzePortfoliosEvent } from '../platform/events';
import { mapLimit } from '../platform/concurrency';
import { errorText } from '../platform/text';
import type { AnalyzePortfoliosDeps } from './ports';
import { deriveConcurrency, type ConcurrencyPlan } from './throughput';
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
  const pacing = messages.length > 0 ? await paceConsumer(messages.length, deps) : undefined;
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
    ...(pacing && { concurrency: pacing.concurrency, expectedFinish: pacing.expectedFinish }),
  };
  obs.log('info', 'Portfolio analyses queued', { ...result });
  return result;
}

/**
 * Sets the consumer's maximum concurrency for tonight's `n` analyses (before they are queued, so
 * the pollers scale with the first messages). A failed update does not stop the night: the work
 * is queued at the concurrency the mapping has, and an ERROR line and `ConcurrencyUpdateFailures`
 * say so. Without a scaler (a local run) the plan is only logged.
 */
async function paceConsumer(
  n: number,
  deps: AnalyzePortfoliosDeps,
): Promise<{ concurrency: number; expectedFinish: string } | undefined> {
  const { pacing, obs } = deps;
  if (!pacing) return undefined;
  const plan: ConcurrencyPlan = deriveConcurrency(n, pacing.now(), pacing.limits);
  const expectedFinish = new Date(plan.expectedFinishMs).toISOString();
  const summary = {
    portfolios: n,
    concurrency: plan.concurrency,
    boundBy: plan.boundBy,
    perMinute: Math.round(plan.perMinute * 10) / 10,
    expectedFinish,
    deadline: new Date(plan.deadlineMs).toISOString(),
  };
  obs.count('AnalysisConcurrency', plan.concurrency);
  if (!plan.meetsDeadline) {
    obs.log('warn', 'The analysis night is expected to finish after its deadline', summary);
  }
  try {
    await pacing.scaler?.setMaximumConcurrency(plan.concurrency);
    obs.log('info', 'Analysis consumer concurrency set', {
      ...summary,
      applied: pacing.scaler !== undefined,
    });
  } catch (err) {
    obs.count('ConcurrencyUpdateFailures', 1);
    obs.log(
      'error',
      'Could not set the analysis consumer concurrency; queuing at its current one',
      {
        ...summary,
        error: errorText(err),
      },
    );
  }
  return { concurrency: plan.concurrency, expectedFinish };
}
