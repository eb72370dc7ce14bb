/**
 * How many analyses run at once on a night: derived from the work (portfolios queued), the time
 * one analysis holds a slot, xAI's limits and the deadline. Pure: no SDK, no clock.
 *
 * One slot (one concurrent `analyzePortfolio` invocation, batch size 1) analyses
 * `60 / secondsPerAnalysis` portfolios a minute. xAI allows `requestsPerMinute` and
 * `tokensPerMinute / tokensPerAnalysis` analyses a minute; `limitHeadroom` keeps a margin below
 * both for retries and manual runs. The night needs `N / planned minutes` analyses a minute,
 * where the planned minutes are `planningFactor` of the time to the deadline (the rest absorbs
 * slower answers and 429 pauses). The concurrency is the smallest that meets that rate, at least
 * {@link MIN_EVENT_SOURCE_CONCURRENCY} (Lambda's floor) and at most what xAI's limits carry and
 * the stage's ceiling (Lambda account concurrency is shared with every other function).
 */

/** Lambda's bounds for an SQS event source mapping's `ScalingConfig.MaximumConcurrency`. */
export const MIN_EVENT_SOURCE_CONCURRENCY = 2;
export const MAX_EVENT_SOURCE_CONCURRENCY = 1000;

/** The per-stage settings of the derivation (stage config `analysisPacing`). */
export interface PacingLimits {
  /** xAI requests per minute of the team (1,800 on the team tier today). */
  readonly requestsPerMinute: number;
  /** xAI tokens per minute of the team (10,000,000 on the team tier today). */
  readonly tokensPerMinute: number;
  /** Tokens one analysis spends (prompt + completion + reasoning), as measured. */
  readonly tokensPerAnalysis: number;
  /** Seconds one analysis holds its slot (xAI latency + storing), as measured. */
  readonly secondsPerAnalysis: number;
  /** The deadline, `HH:MM` UTC (13:30: the US open). */
  readonly deadlineUtc: string;
  /** Most concurrent invocations the stage may use (its share of the account's concurrency). */
  readonly maxConcurrency: number;
  /** Share of xAI's limits the night may use. @default 0.9 */
  readonly limitHeadroom?: number;
  /** Share of the time to the deadline the plan fills. @default 0.8 */
  readonly planningFactor?: number;
}

/** What bounds the derived concurrency. */
export type PacingBound = 'work' | 'minimum' | 'xai-rpm' | 'xai-tpm' | 'ceiling';

export interface ConcurrencyPlan {
  readonly concurrency: number;
  /** Analyses per minute at that concurrency (bounded by xAI's limits). */
  readonly perMinute: number;
  /** Expected finish, Unix ms. */
  readonly expectedFinishMs: number;
  readonly deadlineMs: number;
  /** Whether the expected finish is at or before the deadline. */
  readonly meetsDeadline: boolean;
  readonly boundBy: PacingBound;
  /** The concurrency xAI's limits carry (before the stage ceiling). */
  readonly xaiConcurrency: number;
}

/** The first `HH:MM` UTC at or after `startMs` (the same day, or the next when already past). */
export function deadlineAfter(startMs: number, hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`deadline must be HH:MM (UTC), got ${JSON.stringify(hhmm)}`);
  const day = new Date(startMs);
  const at = Date.UTC(
    day.getUTCFullYear(),
    day.getUTCMonth(),
    day.getUTCDate(),
    Number(m[1]),
    Number(m[2]),
  );
  return at > startMs ? at : at + 86_400_000;
}

/** Analyses per minute xAI's limits carry (with the headroom), and which limit binds. */
export function xaiRatePerMinute(limits: PacingLimits): { perMinute: number; by: PacingBound } {
  const headroom = limits.limitHeadroom ?? 0.9;
  const byRequests = limits.requestsPerMinute * headroom;
  const byTokens = (limits.tokensPerMinute * headroom) / limits.tokensPerAnalysis;
  return byTokens < byRequests
    ? { perMinute: byTokens, by: 'xai-tpm' }
    : { perMinute: byRequests, by: 'xai-rpm' };
}

/**
 * The concurrency for `portfolios` analyses queued at `startMs` (see the module comment). The
 * deadline is the next `deadlineUtc` after `startMs`, so a night started past it plans for the
 * next day's (and says it does not meet today's through `deadlineMs`).
 */
export function deriveConcurrency(
  portfolios: number,
  startMs: number,
  limits: PacingLimits,
): ConcurrencyPlan {
  assertLimits(limits);
  const deadlineMs = deadlineAfter(startMs, limits.deadlineUtc);
  const slotPerMinute = 60 / limits.secondsPerAnalysis;
  const xai = xaiRatePerMinute(limits);
  const xaiConcurrency = Math.max(
    MIN_EVENT_SOURCE_CONCURRENCY,
    Math.floor(xai.perMinute / slotPerMinute),
  );
  const ceiling = Math.min(limits.maxConcurrency, MAX_EVENT_SOURCE_CONCURRENCY);
  const plannedMinutes = ((deadlineMs - startMs) / 60_000) * (limits.planningFactor ?? 0.8);
  const needed = Math.ceil(portfolios / plannedMinutes / slotPerMinute);

  let concurrency = needed;
  let boundBy: PacingBound = 'work';
  if (needed > xaiConcurrency && xaiConcurrency <= ceiling) {
    concurrency = xaiConcurrency;
    boundBy = xai.by;
  } else if (needed > ceiling) {
    concurrency = ceiling;
    boundBy = 'ceiling';
  }
  if (concurrency < MIN_EVENT_SOURCE_CONCURRENCY) {
    concurrency = MIN_EVENT_SOURCE_CONCURRENCY;
    boundBy = 'minimum';
  }
  const perMinute = Math.min(concurrency * slotPerMinute, xai.perMinute);
  const expectedFinishMs = startMs + Math.ceil((portfolios / perMinute) * 60_000);
  return {
    concurrency,
    perMinute,
    expectedFinishMs,
    deadlineMs,
    meetsDeadline: expectedFinishMs <= deadlineMs,
    boundBy,
    xaiConcurrency,
  };
}

function assertLimits(l: PacingLimits): void {
  const positive = {
    requestsPerMinute: l.requestsPerMinute,
    tokensPerMinute: l.tokensPerMinute,
    tokensPerAnalysis: l.tokensPerAnalysis,
    secondsPerAnalysis: l.secondsPerAnalysis,
    maxConcurrency: l.maxConcurrency,
  };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  }
  if (l.maxConcurrency < MIN_EVENT_SOURCE_CONCURRENCY) {
    throw new Error(`maxConcurrency must be at least ${MIN_EVENT_SOURCE_CONCURRENCY}`);
  }
}
