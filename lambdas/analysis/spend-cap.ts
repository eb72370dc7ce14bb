import { errorText } from '../platform/text';
import { ticksToUsd } from './analysis-row';
import { AnalysisFailedError } from './failures';
import type { AnalysisObservability, AnalysisRuntime, NightSpend } from './ports';
import type { CompletionUsage } from './types';

/**
 * The per-night xAI spending cap (`XAI_MAX_USD_PER_NIGHT`, stage config `xaiMaxUsdPerNight`).
 *
 * The night is the UTC day of the call (the analysis rule fires at 06:00 UTC; a manual run during
 * the day counts towards that day's night). Its spend is the sum of every `costUsd` xAI billed
 * that night (its `usage.cost_in_usd_ticks`, the figure stored on each row, plus the billed
 * answers that failed validation), kept in the state table item `spend#xai#<night>`
 * (adapters/spend-ledger.ts) so every concurrent invocation sees it.
 *
 * Before each call the analysis asks the ledger to admit it: one conditional write that succeeds
 * while `spentUsd < cap`. Once the cap is reached, a queued portfolio is not sent: it is counted
 * (`AnalysesSkippedBudget`), its record acknowledged (its last good analysis stays the newest;
 * the next night has a new item and starts afresh) and one WARN line per invocation says so. A
 * manual `{"portfolio_id", "force": true}` is always sent and its cost counted; a manual
 * invocation without `force` is refused with a message saying so.
 *
 * Overshoot bound: a call is admitted on the spend recorded so far, and its cost is added only
 * when xAI has answered, so the calls admitted just before the cap was reached still complete.
 * Each analyzePortfolio invocation handles its records one at a time, so at most one admitted
 * call per concurrent invocation is in flight:
 *
 *   night's spend ≤ cap + (concurrent invocations, i.e. the analysis queue's maximum concurrency,
 *                          plus manual invocations running) × (max cost of one analysis)
 *
 * where one analysis costs at most `XAI_MAX_ATTEMPTS` billed answers of the prompt plus
 * `max_completion_tokens` (≤ 16,000) tokens: about $0.05 at grok-4.3's $1.25 / $2.50 per 1M
 * tokens for one answer, so 5 invocations overshoot by at most ~$0.25 (the README, "Operate").
 * Manual forced runs add their own cost on top, by design. A cost can go unrecorded only when
 * the ledger write itself fails (logged as WARN; XaiCostUsd still counts it).
 */

/** The night a call belongs to: its UTC day, `YYYY-MM-DD`. */
export const nightOf = (now: number): string => new Date(now).toISOString().slice(0, 10);

/** A portfolio not sent to xAI because the night's spend reached its cap. */
export class SpendCapReachedError extends AnalysisFailedError {
  constructor(
    portfolioId: string,
    readonly night: string,
    readonly spentUsd: number,
    readonly capUsd: number,
  ) {
    super(
      'spend-cap',
      `Portfolio ${portfolioId} was not sent to xAI: the night ${night} has spent ` +
        `$${spentUsd.toFixed(4)} of its $${capUsd} cap (XAI_MAX_USD_PER_NIGHT). Its last analysis stays; ` +
        'the next night starts afresh. Invoke with {"portfolio_id", "force": true} to spend anyway.',
      portfolioId,
    );
  }
}

/** One call to be admitted. */
export interface SpendTarget {
  readonly portfolioId: string;
  /** A queue record (the nightly run); manual invocations are not. */
  readonly queued: boolean;
  readonly force: boolean;
}

export interface SpendDeps {
  readonly spend: NightSpend;
  readonly runtime: AnalysisRuntime;
  readonly obs: AnalysisObservability;
}

/**
 * Admits one call against the night's cap; returns the night to record its cost under. Throws
 * {@link SpendCapReachedError} when the cap is reached (a manual forced run is never refused).
 */
export async function admitCall(target: SpendTarget, deps: SpendDeps): Promise<string> {
  const now = deps.runtime.now();
  const night = nightOf(now);
  const cap = deps.runtime.spendCapUsd;
  if (cap === undefined || (!target.queued && target.force)) return night;
  const admission = await deps.spend.admit(night, cap, now);
  if (admission.admitted) return night;
  throw new SpendCapReachedError(target.portfolioId, night, admission.spentUsd, admission.capUsd);
}

/** Adds a billed answer's cost to the night's spend; a failed write is only logged. */
export async function recordSpend(
  portfolioId: string,
  night: string,
  usage: CompletionUsage | undefined,
  deps: SpendDeps,
): Promise<void> {
  if (usage?.costInUsdTicks === undefined) return;
  const usd = ticksToUsd(usage.costInUsdTicks);
  try {
    await deps.spend.addSpend(night, usd, deps.runtime.now());
  } catch (err) {
    deps.obs.log('warn', 'xAI cost could not be added to the night spend', {
      portfolioId,
      night,
      costUsd: usd,
      error: errorText(err),
    });
  }
}

/** The one WARN line (and the count) of an invocation whose records were skipped for budget. */
export function reportBudgetSkips(
  skipped: readonly SpendCapReachedError[],
  obs: AnalysisObservability,
): void {
  if (skipped.length === 0) return;
  obs.count('AnalysesSkippedBudget', skipped.length);
  const last = skipped[skipped.length - 1];
  obs.log('warn', 'Night xAI spend cap reached: portfolios not sent to xAI', {
    night: last.night,
    spentUsd: last.spentUsd,
    capUsd: last.capUsd,
    skipped: skipped.length,
    portfolioIds: skipped.slice(0, 20).map((s) => s.portfolioId),
  });
}
