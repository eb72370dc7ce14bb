import { analyzePortfolioFlow } from '../../../lambdas/analysis/flows';
import { xaiError } from '../../../lambdas/analysis/adapters/xai-error';
import {
  MAX_RATE_LIMIT_DEFERRALS,
  deferralDelaySeconds,
} from '../../../lambdas/analysis/rate-limit-deferral';
import type { AnalysisMessage, BatchAnalysisResult } from '../../../lambdas/analysis/types';
import { fakeAnalysis, message, sqs } from './flow-fakes';

/** A fake analysis whose queue records what is re-queued. */
function withRequeue() {
  const f = fakeAnalysis();
  const requeued: { body: AnalysisMessage; delaySeconds: number }[] = [];
  const deps = {
    ...f.deps,
    requeue: {
      send: async (body: AnalysisMessage, delaySeconds: number) => {
        requeued.push({ body, delaySeconds });
      },
    },
  };
  return { f, deps, requeued };
}

const rateLimited = (retryAfterMs?: number) =>
  xaiError('XaiRateLimitedError', 'xAI 429: rate limited: Too many requests', {
    status: 429,
    retryAfterMs,
  });

describe('xAI 429 pacing of queue records', () => {
  it('re-queues a rate-limited record with the Retry-After delay and acknowledges it, not a failure', async () => {
    // Prepare
    const { f, deps, requeued } = withRequeue();
    f.failNextWith(rateLimited(30_000));

    // Act
    const result = (await analyzePortfolioFlow(sqs(message()), deps)) as BatchAnalysisResult;

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(requeued).toHaveLength(1);
    expect(requeued[0].body).toEqual({ ...message(), deferrals: 1 });
    expect(requeued[0].delaySeconds).toBeGreaterThanOrEqual(30);
    expect(requeued[0].delaySeconds).toBeLessThanOrEqual(45);
    expect(f.counts.get('AnalysisFailures')).toBeUndefined();
    expect(f.counts.get('AnalysesDeferred')).toBe(1);
    expect(f.rows).toHaveLength(0);
    expect(f.claims.size).toBe(0);
    expect(f.logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('analyses the re-queued message when it comes back', async () => {
    // Prepare
    const { f, deps, requeued } = withRequeue();
    f.failNextWith(rateLimited(1_000));
    await analyzePortfolioFlow(sqs(message()), deps);

    // Act
    const result = await analyzePortfolioFlow(sqs(requeued[0].body), deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.rows).toHaveLength(1);
  });

  it('fails the record as before once it has been deferred the most times', async () => {
    // Prepare
    const { f, deps, requeued } = withRequeue();
    f.failNextWith(rateLimited(1_000));

    // Act
    const result = await analyzePortfolioFlow(
      sqs(message('p1', { deferrals: MAX_RATE_LIMIT_DEFERRALS })),
      deps,
    );

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(requeued).toEqual([]);
    expect(f.counts.get('AnalysisFailures')).toBe(1);
  });

  it('leaves a credits-exhausted 429 and a 503 to the failure path', async () => {
    // Prepare
    const { f, deps, requeued } = withRequeue();
    f.failNextWith(
      xaiError('XaiCreditsExhaustedError', 'xAI 429: credits exhausted', { status: 429 }),
    );

    // Act
    const credits = await analyzePortfolioFlow(sqs(message()), deps);
    f.failNextWith(xaiError('XaiServerError', 'xAI 503', { status: 503, retryAfterMs: 5_000 }));
    const unavailable = await analyzePortfolioFlow(sqs(message()), deps);

    // Assess
    expect(credits).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(unavailable).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(requeued).toEqual([]);
  });

  it('fails the record (SQS redelivers it) when the re-queue itself fails', async () => {
    // Prepare
    const { f, deps } = withRequeue();
    f.failNextWith(rateLimited(1_000));
    const failing = {
      ...deps,
      requeue: {
        send: async () => {
          throw new Error('SQS unavailable');
        },
      },
    };

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), failing);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
  });
});

describe('deferralDelaySeconds', () => {
  it('waits the Retry-After plus up to 50 % jitter, 60 s without one, within SQS 1-900 s', () => {
    expect(deferralDelaySeconds(10_000, () => 0)).toBe(10);
    expect(deferralDelaySeconds(10_000, () => 0.999)).toBe(15);
    expect(deferralDelaySeconds(undefined, () => 0)).toBe(60);
    expect(deferralDelaySeconds(0, () => 0)).toBe(1);
    expect(deferralDelaySeconds(3_600_000, () => 0.5)).toBe(900);
  });
});
