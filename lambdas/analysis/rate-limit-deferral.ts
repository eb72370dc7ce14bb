import { AnalysisFailedError } from './failures';
import type { AnalyzePortfolioDeps } from './ports';
import type { AnalysisMessage } from './types';

/**
 * xAI 429s slow the night down instead of failing records (issue 17). Within an invocation the
 * xAI client already waits out a `Retry-After` when the invocation has the time (its retry loop,
 * lambdas/platform/http.ts); when it has not, the record comes here: it is sent again to the
 * analysis queue with a delay and acknowledged, so it is neither counted as a failure nor
 * charged a receive (the DLQ's maxReceiveCount counts real failures only). A new message, not a
 * ChangeMessageVisibility on the old one, for that reason. Past
 * {@link MAX_RATE_LIMIT_DEFERRALS} the record fails as before (retried, then the DLQ).
 */

/** Re-queues of one analysis after rate limits: 20 × up to 15 min covers a whole night. */
export const MAX_RATE_LIMIT_DEFERRALS = 20;
/** Wait when xAI sent no Retry-After: its limits are per minute. */
export const DEFAULT_RATE_LIMIT_DELAY_S = 60;
/** SQS's largest DelaySeconds. */
const MAX_DELAY_S = 900;

/**
 * The delay of a deferred record: the Retry-After (or 60 s), plus up to 50 % jitter so that the
 * records one burst of 429s deferred do not all come back in the same second; 1-900 s.
 */
export function deferralDelaySeconds(
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  const base = retryAfterMs === undefined ? DEFAULT_RATE_LIMIT_DELAY_S : retryAfterMs / 1000;
  const withJitter = Math.ceil(base * (1 + 0.5 * random()));
  return Math.min(MAX_DELAY_S, Math.max(1, withJitter));
}

/**
 * Re-queues `message` with a delay when `err` is an xAI rate limit it may still wait out;
 * returns whether it did (the record is then acknowledged). A failed send is thrown: the record
 * then fails and SQS delivers it again after the visibility timeout.
 */
export async function deferRateLimited(
  err: unknown,
  message: AnalysisMessage,
  deps: AnalyzePortfolioDeps,
  random: () => number = Math.random,
): Promise<boolean> {
  if (!(err instanceof AnalysisFailedError) || err.kind !== 'xai-rate-limited') return false;
  const deferrals = message.deferrals ?? 0;
  if (!deps.requeue || deferrals >= MAX_RATE_LIMIT_DEFERRALS) return false;
  const delaySeconds = deferralDelaySeconds(err.retryAfterMs, random);
  await deps.requeue.send({ ...message, deferrals: deferrals + 1 }, delaySeconds);
  deps.obs.count('AnalysesDeferred', 1);
  deps.obs.log('warn', 'xAI rate limit: analysis re-queued with a delay', {
    portfolioId: message.portfolioId,
    delaySeconds,
    retryAfterMs: err.retryAfterMs,
    deferrals: deferrals + 1,
    runId: message.runId,
  });
  return true;
}
