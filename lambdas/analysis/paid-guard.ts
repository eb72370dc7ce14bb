import { stateKeys } from '../platform/state-keys';
import { clip, errorText } from '../platform/text';
import { AnalysisFailedError, toFailure, type AnalysisFailureKind } from './failures';
import type { AnalysisObservability, AnalysisRuntime, FailureMarks } from './ports';

/**
 * What keeps a paid failure from being paid for again: marks in the state table, read before a
 * call to xAI and written after one fails.
 *
 * - A **paid defect** (an answer that fails validation, a refusal, a truncation) is what xAI
 *   answers again at temperature 0: a queued analysis is sent at most
 *   {@link PAID_DEFECT_ATTEMPTS} times; later receives of its record fail at once with the same
 *   reason (ERROR line naming the portfolio), so SQS moves it to the DLQ without another call.
 * - A **halting** failure (xAI rejected the key, or the credits are exhausted) stops the run:
 *   for {@link XAI_HALT_MS} the run's other portfolios fail at once with the same reason instead
 *   of 5 failing calls each, and reach the DLQ (redrive it once the key or the credits are
 *   fixed). XaiAuthErrors / XaiCreditsExhausted count only the real failure, so that alarm fires
 *   once. Manual invocations have their own run id: one can test a fixed key during a halt.
 */

/** Kinds xAI bills for and would answer the same way again (temperature 0). */
export const PAID_DEFECTS: ReadonlySet<AnalysisFailureKind> = new Set<AnalysisFailureKind>([
  'invalid-answer',
  'xai-refusal',
  'xai-truncated',
]);

/** Paid attempts of one analysis (portfolio, model, prompt, session) that end in a defect: the first and one retry. */
export const PAID_DEFECT_ATTEMPTS = 2;

/** Kinds after which a run sends nothing more to xAI. */
export const HALTING_KINDS: ReadonlySet<AnalysisFailureKind> = new Set<AnalysisFailureKind>([
  'xai-auth',
  'xai-credits-exhausted',
]);

/**
 * How long a halt holds, ms: 2 hours, longer than a night's analyses (about an hour for 1,000
 * portfolios) and than a record's 5 receives (5 × the 18-min visibility timeout), so each
 * halted record reaches the DLQ without a call; a run redriven later calls xAI again.
 */
export const XAI_HALT_MS = 2 * 3_600_000;

/** How long a paid-defect mark is kept, ms (a record's life in the queue is at most 4 days). */
const DEFECT_MARK_MS = 4 * 86_400_000;

/** One analysis as the guard sees it. */
export interface PaidCallTarget {
  readonly portfolioId: string;
  /** The analysis' claim key. */
  readonly key: string;
  readonly runId: string;
  /** A queue record (a manual invocation is always sent: an operator asked for it). */
  readonly queued: boolean;
}

export interface PaidGuardDeps {
  readonly marks: FailureMarks;
  readonly runtime: AnalysisRuntime;
  readonly obs: AnalysisObservability;
}

export const haltKey = stateKeys.xaiHalt;
export const defectKey = stateKeys.paidDefect;

/** Runs `call` unless a mark says it would be paid for in vain; marks its paid failures. */
export async function withPaidGuard<T>(
  target: PaidCallTarget,
  deps: PaidGuardDeps,
  call: () => Promise<T>,
): Promise<T> {
  await refuseMarked(target, deps);
  try {
    return await call();
  } catch (err) {
    await markFailure(target, toFailure(err, target.portfolioId), deps);
    throw err;
  }
}

/** Throws the marked failure when the run is halted or this analysis used up its paid attempts. */
async function refuseMarked(target: PaidCallTarget, deps: PaidGuardDeps): Promise<void> {
  const { marks, runtime } = deps;
  const id = target.portfolioId;
  const halt = await marks.failureMark(haltKey(target.runId));
  if (halt && halt.holdUntil > runtime.now()) {
    throw new AnalysisFailedError(
      halt.kind as AnalysisFailureKind,
      `Portfolio ${id} was not sent to xAI: run ${target.runId} is halted until ` +
        `${new Date(halt.holdUntil).toISOString()} after ${clip(halt.message)}. ` +
        'Fix the xAI key or credits, then redrive the analysis DLQ.',
      id,
    );
  }
  if (!target.queued) return;
  const defect = await marks.failureMark(defectKey(target.key));
  if (defect && defect.count >= PAID_DEFECT_ATTEMPTS) {
    throw new AnalysisFailedError(
      defect.kind as AnalysisFailureKind,
      `Portfolio ${id} was not sent to xAI again: its last ${defect.count} paid answers failed the same way ` +
        `(last: ${clip(defect.message)}); at temperature 0 another would too. The record goes to the DLQ; ` +
        'look at the prompt and the answer, then redrive it or run it with {"portfolio_id", "force": true}.',
      id,
    );
  }
}

/** Marks a paid defect or a halting failure; a mark that cannot be written is only logged. */
async function markFailure(
  target: PaidCallTarget,
  failure: AnalysisFailedError,
  deps: PaidGuardDeps,
): Promise<void> {
  const halting = HALTING_KINDS.has(failure.kind);
  if (!halting && !PAID_DEFECTS.has(failure.kind)) return;
  const now = deps.runtime.now();
  const key = halting ? haltKey(target.runId) : defectKey(target.key);
  const holdUntil = now + (halting ? XAI_HALT_MS : DEFECT_MARK_MS);
  try {
    const count = await deps.marks.markFailure(key, {
      kind: failure.kind,
      message: clip(failure.message),
      now,
      holdUntil,
    });
    if (halting) {
      deps.obs.log('error', `xAI halted for run ${target.runId} (${failure.kind})`, {
        portfolioId: target.portfolioId,
        until: new Date(holdUntil).toISOString(),
        error: clip(failure.message),
      });
    } else if (count >= PAID_DEFECT_ATTEMPTS) {
      deps.obs.log('warn', 'Paid attempts of this analysis used up; it is not sent to xAI again', {
        portfolioId: target.portfolioId,
        kind: failure.kind,
        attempts: count,
      });
    }
  } catch (err) {
    deps.obs.log('warn', 'Failure mark could not be written', {
      portfolioId: target.portfolioId,
      key,
      error: errorText(err),
    });
  }
}
