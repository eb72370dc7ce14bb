import { errorText } from '../platform/text';
import type { UpstreamErrorKind } from '../platform/upstream-error';
import type { AnalysisObservability } from './ports';

/**
 * Why an analysis stored nothing, and what a queue record does about it (the DISPOSITION table):
 * moved here unchanged from flows.ts.
 */

/** Why an analysis did not produce a row. */
export type AnalysisFailureKind =
  | 'not-found'
  | 'ambiguous-name'
  | 'inactive'
  | 'no-positions'
  | 'no-market-data'
  | 'too-many-holdings'
  | 'in-progress'
  | 'xai-unavailable'
  | 'xai-rate-limited'
  | 'xai-auth'
  | 'xai-credits-exhausted'
  | 'xai-bad-request'
  | 'xai-refusal'
  | 'xai-truncated'
  | 'xai-bad-response'
  | 'invalid-answer'
  | 'spend-cap'
  | 'internal';

/**
 * For a queue record: `skip` acknowledges quietly (the portfolio is gone, inactive or empty
 * since it was queued), `poison` acknowledges loudly (ERROR + AnalysisFailures: a retry cannot
 * help), `retry` fails the record so SQS redelivers it and, after maxReceiveCount, moves it to
 * the DLQ (which alarms), `wait` fails the record quietly (WARN): another invocation holds its
 * claim, and SQS redelivers it after the visibility timeout (6 × the function timeout, longer
 * than any claim's lease), when the claim is done, released or lapsed. Every xAI failure
 * retries: transient ones may pass, and the permanent ones (credits, key, refusal, truncation,
 * invalid answer) must reach the DLQ; the paid and the halting ones are not sent to xAI again
 * on those retries (PAID_DEFECTS, HALTING_KINDS in analyze.ts / paid-guard.ts).
 */
const DISPOSITION: Record<AnalysisFailureKind, Disposition> = {
  'not-found': 'skip',
  'ambiguous-name': 'poison',
  inactive: 'skip',
  'no-positions': 'skip',
  'no-market-data': 'poison',
  'too-many-holdings': 'poison',
  'in-progress': 'wait',
  'xai-unavailable': 'retry',
  // A 429 rate limit is re-queued with a delay by the batch flow (flows.ts, deferRateLimited)
  // and not counted as a failure; only past MAX_RATE_LIMIT_DEFERRALS does it retry as a failure.
  'xai-rate-limited': 'retry',
  'xai-auth': 'retry',
  'xai-credits-exhausted': 'retry',
  'xai-bad-request': 'retry',
  'xai-refusal': 'retry',
  'xai-truncated': 'retry',
  'xai-bad-response': 'retry',
  'invalid-answer': 'retry',
  // The night's xAI spend reached its cap (spend-cap.ts): acknowledged, counted as
  // AnalysesSkippedBudget; the queue consumer reports one WARN line per invocation.
  'spend-cap': 'skip',
  internal: 'retry',
};

/** What a queue record does about a failure (see DISPOSITION). */
export type Disposition = 'skip' | 'poison' | 'retry' | 'wait';

/** An analysis that stored nothing; the message says what was wrong. */
export class AnalysisFailedError extends Error {
  override readonly name = 'AnalysisFailedError';

  constructor(
    readonly kind: AnalysisFailureKind,
    message: string,
    readonly portfolioId?: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** How long xAI asked to wait (`Retry-After` of a 429), ms. */
  readonly retryAfterMs?: number;

  /** What a queue-triggered invocation does with the record. */
  get disposition(): Disposition {
    return DISPOSITION[this.kind];
  }
}

/**
 * The failure of each kind an xAI call fails with (the xAI client's XaiErrorKind; a test checks
 * that each has its entry). `other`, any kind xAI does not produce, and an error that is not an
 * upstream failure at all are `internal`.
 */
export const XAI_KINDS: Partial<Record<UpstreamErrorKind, AnalysisFailureKind>> = {
  unavailable: 'xai-unavailable',
  auth: 'xai-auth',
  'credits-exhausted': 'xai-credits-exhausted',
  'bad-request': 'xai-bad-request',
  refusal: 'xai-refusal',
  truncated: 'xai-truncated',
  'bad-response': 'xai-bad-response',
  other: 'internal',
};

export function toFailure(err: unknown, portfolioId: string | undefined): AnalysisFailedError {
  if (err instanceof AnalysisFailedError) return err;
  return new AnalysisFailedError(
    'internal',
    `Analysis of portfolio ${portfolioId ?? '(unresolved)'} failed: ${errorText(err)}`,
    portfolioId,
    { cause: err },
  );
}

/** Logs and counts a failure once, at the level its disposition calls for; returns it. */
export function reportFailure(
  failure: AnalysisFailedError,
  deps: AnalysisObservability,
  context: Record<string, unknown>,
): AnalysisFailedError {
  const data = {
    portfolioId: failure.portfolioId,
    kind: failure.kind,
    error: failure.message,
    cause: failure.cause === undefined ? undefined : errorText(failure.cause),
    ...context,
  };
  if (failure.disposition === 'skip') {
    deps.count(failure.kind === 'spend-cap' ? 'AnalysesSkippedBudget' : 'AnalysesSkipped', 1);
    deps.log('warn', `Analysis skipped (${failure.kind})`, data);
  } else if (failure.disposition === 'wait') {
    deps.log(
      'warn',
      `Analysis postponed (${failure.kind}); the record is retried after the lease`,
      data,
    );
  } else {
    deps.count('AnalysisFailures', 1);
    deps.log(
      'error',
      `Analysis of portfolio ${failure.portfolioId ?? '(unresolved)'} failed (${failure.kind})` +
        (failure.disposition === 'retry' ? '; the record will be retried' : '; not retried'),
      data,
    );
  }
  return failure;
}
