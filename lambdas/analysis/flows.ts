import type { AnalyzePortfolioEvent, SqsRecordLike } from '../platform/events';
import { processQueueBatch, type MalformedProblem, type QueueRecord } from '../platform/sqs-batch';
import type { Portfolio } from '../portfolios/portfolio-repository';
import { analyzePortfolio } from './analyze';
import { echo } from './domain/user-text';
import { AnalysisFailedError, reportFailure, toFailure } from './failures';
import type { AnalyzePortfolioDeps } from './ports';
import { reportBudgetSkips, SpendCapReachedError } from './spend-cap';
import { deferRateLimited } from './rate-limit-deferral';
import {
  analysisMessageSchema,
  type AnalysisMessage,
  type BatchAnalysisResult,
  type ManualAnalysisResult,
} from './types';

/**
 * `analyzePortfolio`'s entry flow: a queue batch or a manual invocation, each analysing one
 * portfolio per request through {@link analyzePortfolio}. The fan-out is in `fan-out.ts`.
 */

// Kept so test/faults and scripts/local-run.ts, which import these from here, need no change.
export { analysisKey } from './claim';
export { COMPLETION_TOKENS_MAX } from './analysis-row';
export type { AnalyzePortfoliosResult } from './types';

/**
 * `analyzePortfolio`: a queue batch analyses one portfolio per record (each in its own
 * try/catch) and reports the records to retry as batch item failures; malformed bodies are
 * logged with their messageId, counted and acknowledged. A manual `portfolio_id` /
 * `portfolio_name` invocation returns the stored (or already stored) analysis, or throws an
 * {@link AnalysisFailedError} saying what was wrong.
 */
export async function analyzePortfolioFlow(
  event: AnalyzePortfolioEvent,
  deps: AnalyzePortfolioDeps,
): Promise<BatchAnalysisResult | ManualAnalysisResult> {
  if (event.kind === 'sqs') return analyzeBatch(event.records, deps);
  const runId = `manual-${deps.runtime.newId()}`;
  deps.obs.correlate(runId);
  let portfolio: Portfolio;
  try {
    portfolio = await resolveManualTarget(event, deps);
  } catch (err) {
    const failure = toFailure(err, undefined);
    deps.obs.log('warn', 'Manual analysis request rejected', {
      kind: failure.kind,
      error: failure.message,
      runId,
    });
    throw failure;
  }
  try {
    return await analyzePortfolio(portfolio, { force: event.force, runId, queued: false }, deps);
  } catch (err) {
    throw reportFailure(toFailure(err, portfolio.id), deps.obs, { runId });
  }
}

/**
 * One portfolio per record; a failure is retried when its disposition says `retry` or `wait`,
 * except an xAI rate limit, which is re-queued with a delay (rate-limit-deferral.ts). A record
 * skipped because the night's spend cap is reached is acknowledged and counted, and the
 * invocation logs one WARN line for all of them (spend-cap.ts).
 */
async function analyzeBatch(
  records: readonly SqsRecordLike[],
  deps: AnalyzePortfolioDeps,
): Promise<BatchAnalysisResult> {
  const { obs } = deps;
  const overBudget: SpendCapReachedError[] = [];
  const result = await processQueueBatch<AnalysisMessage>(records, {
    schema: analysisMessageSchema,
    malformed: (record: QueueRecord, problem: MalformedProblem) => {
      obs.count('MalformedMessages', 1);
      obs.log('error', 'Malformed portfolio-analysis message acknowledged without processing', {
        messageId: record.messageId,
        bytes: record.body.length,
        problem,
      });
    },
    process: async (message, record) => {
      if (message.runId) obs.correlate(message.runId);
      const portfolio = await deps.portfolios.getPortfolio(message.portfolioId);
      if (!portfolio) {
        throw new AnalysisFailedError(
          'not-found',
          `Portfolio ${message.portfolioId} no longer exists`,
          message.portfolioId,
        );
      }
      const runId = message.runId ?? `sqs-${record.messageId}`;
      const opts = { force: message.force ?? false, runId, queued: true };
      try {
        return await analyzePortfolio(portfolio, opts, deps);
      } catch (err) {
        if (err instanceof SpendCapReachedError) {
          overBudget.push(err);
          return undefined;
        }
        if (await deferRateLimited(err, message, deps)) return undefined;
        throw err;
      }
    },
    failed: (err, message, record) => {
      const failure = reportFailure(toFailure(err, message.portfolioId), obs, {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        runId: message.runId,
      });
      return failure.disposition === 'retry' || failure.disposition === 'wait'
        ? 'retry'
        : 'acknowledge';
    },
  });
  reportBudgetSkips(overBudget, obs);
  return result;
}

/** The portfolio a manual invocation names, by id or by a name only one portfolio has. */
async function resolveManualTarget(
  event: Extract<AnalyzePortfolioEvent, { kind: 'byId' | 'byName' }>,
  deps: AnalyzePortfolioDeps,
): Promise<Portfolio> {
  const portfolio =
    event.kind === 'byId'
      ? await portfolioById(event.portfolioId, deps)
      : await portfolioByName(event.portfolioName, deps);
  if (portfolio.isActive === false) {
    throw new AnalysisFailedError(
      'inactive',
      `Portfolio ${portfolio.id} (${echo(portfolio.name ?? '')}) is inactive (isActive = false); inactive portfolios are not analysed`,
      portfolio.id,
    );
  }
  return portfolio;
}

async function portfolioById(id: string, deps: AnalyzePortfolioDeps): Promise<Portfolio> {
  const portfolio = await deps.portfolios.getPortfolio(id);
  if (!portfolio)
    throw new AnalysisFailedError('not-found', `No portfolio with id ${echo(id)}`, id);
  return portfolio;
}

async function portfolioByName(name: string, deps: AnalyzePortfolioDeps): Promise<Portfolio> {
  const matches = await deps.portfolios.findPortfoliosByName(name);
  if (matches.length === 0) {
    throw new AnalysisFailedError('not-found', `No portfolio is named ${echo(name)}`);
  }
  if (matches.length > 1) {
    const ids = [...matches]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map(
        (m) => `${m.id} (user ${m.userId ?? 'unknown'}${m.isActive === false ? ', inactive' : ''})`,
      );
    throw new AnalysisFailedError(
      'ambiguous-name',
      `${matches.length} portfolios are named ${echo(name)}: ${ids.join(', ')}. ` +
        'Nothing was analysed; invoke again with {"portfolio_id": "<one of these ids>"}.',
    );
  }
  return matches[0];
}
