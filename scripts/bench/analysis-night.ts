/**
 * The analysis night of `npm run bench` (issue 17) on a simulated clock: N portfolios queued at
 * 06:00 UTC, the consumer concurrency derived by the real `deriveConcurrency` from the prod
 * stage's `analysisPacing`, xAI answering after 8-20 s (seeded, uniform) and refusing over
 * 1,800 requests / 10M tokens a minute with the simulator's own `XaiRateWindow`, 429s handled
 * as the service does (wait out Retry-After inside the 180 s invocation, else re-queue with the
 * real `deferralDelaySeconds`; past the real `MAX_RATE_LIMIT_DEFERRALS` the record fails and
 * comes back after the visibility timeout, the DLQ after maxReceiveCount is not modelled).
 *
 * The spending cap (issue 17 item 2, `capUsd`) as lambdas/analysis/spend-cap.ts does it: each
 * invocation asks to be admitted before its xAI call (once: the client's 429 retries inside the
 * invocation are not admitted again, a re-queued record is); it is admitted while the night's
 * recorded spend (the real `nightOf` names the night) is below the cap, else the record is
 * skipped and counted; a billed answer's cost is added when the answer arrives, not when the
 * call is admitted. Only the ledger's storage is modelled (a map, not the state table's
 * conditional write, whose check is the same `spentUsd < cap`).
 *
 * What is modelled, not run, at every size (the real handler with dynalite and local SQS takes
 * about 1 s of CPU per analysis here, hours at 100,000): the Lambda poller (a slot takes the
 * next visible message the moment it is free), SQS (an in-memory list with visibility times),
 * DynamoDB, and the answer itself (its tokens and cost are the figures below). The clock is a
 * discrete-event one: time jumps from one event to the next, like scripts/bench/virtual-clock.ts.
 * Every xAI attempt, a retry inside an invocation included, is its own event, processed in time
 * order, so the rate window is only asked about the present. (Playing a whole invocation's
 * retries at once fed it future times: every later slot saw a Retry-After longer than its
 * invocation and re-queued at once, the 950,649 429s for 950,000 re-queues of a forced
 * 1,000-slot, 100,000-portfolio night.)
 */
import { stages } from '../../lib/config/stages';
import { deriveConcurrency } from '../../lambdas/analysis/throughput';
import {
  MAX_RATE_LIMIT_DEFERRALS,
  deferralDelaySeconds,
} from '../../lambdas/analysis/rate-limit-deferral';
import { nightOf } from '../../lambdas/analysis/spend-cap';
import { ticksToUsd } from '../../lambdas/analysis/analysis-row';
import { XAI_PRICES_USD_PER_MILLION } from '../../sim/xai-simulator';
import { XaiRateWindow } from '../../sim/xai-rate-window';
import { MinHeap } from './min-heap';
import { seededRandom as seeded } from '../../sim/seeded-random';

/** What one modelled analysis spends: a 20-holding prompt, its answer and reasoning. */
export const MODEL_ANALYSIS = {
  promptTokens: 5_000,
  outputTokens: 1_000,
  /** Counted against the TPM before answering: prompt + max_completion_tokens. */
  countedTokens: 8_000,
};
const price = XAI_PRICES_USD_PER_MILLION['grok-4.3'];
export const COST_PER_ANALYSIS_USD =
  (MODEL_ANALYSIS.promptTokens * price.input + MODEL_ANALYSIS.outputTokens * price.output) / 1e6;
/** The same as xAI bills it, `usage.cost_in_usd_ticks` (1e-10 USD). */
export const COST_PER_ANALYSIS_TICKS = Math.round(COST_PER_ANALYSIS_USD * 1e10);

export interface AnalysisNightOptions {
  readonly portfolios: number;
  /** xAI latency bounds, ms. @default 8000-20000 */
  readonly latencyMs?: readonly [number, number];
  /** Overrides the derived concurrency (to show what a fixed one does). */
  readonly fixedConcurrency?: number;
  /** Spending cap of the night, USD (`xaiMaxUsdPerNight`); none when undefined. */
  readonly capUsd?: number;
  readonly seed?: number;
}

export interface AnalysisNightResult {
  readonly portfolios: number;
  readonly concurrency: number;
  readonly boundBy: string;
  readonly analysed: number;
  /** Simulated ms from 06:00 UTC to the last stored analysis. */
  readonly completionMs: number;
  readonly deadlineHeld: boolean;
  readonly http429: number;
  readonly deferrals: number;
  readonly costUsd: number;
  readonly maxRequestsInMinute: number;
  /** Records that failed after MAX_RATE_LIMIT_DEFERRALS re-queues (retried after the visibility timeout). */
  readonly rateLimitFailures: number;
  /** Most re-queues of one record. */
  readonly maxDeferralsOfOne: number;
  readonly cap?: CapOutcome;
  readonly realMs: number;
}

/** What the spending cap did to a night. */
export interface CapOutcome {
  readonly capUsd: number;
  /** Analyses answered and billed. */
  readonly sent: number;
  /** Calls admitted (a re-queued record is admitted again: this counts them all). */
  readonly admitted: number;
  /** Records acknowledged unsent because the night's spend had reached the cap. */
  readonly skippedBudget: number;
  /** The night's recorded spend once every answer has arrived. */
  readonly spentUsd: number;
  /** `spentUsd − capUsd`, at least 0. */
  readonly overshootUsd: number;
  /** The stated bound on the overshoot: concurrency used × the most one analysis costs. */
  readonly boundUsd: number;
  readonly withinBound: boolean;
}

/** 06:00 UTC on a Tuesday; the model never reads the real date. */
export const ANALYSIS_NIGHT_START = Date.UTC(2026, 10, 17, 6, 0, 0);
const INVOCATION_MS = 180_000;
const RESERVE_MS = 15_000;

/**
 * The most one modelled analysis costs: every modelled answer bills the same tokens. (In
 * production the most is one answer of its prompt plus `max_completion_tokens`, about $0.05:
 * spend-cap.ts.)
 */
export const MAX_COST_PER_ANALYSIS_USD = COST_PER_ANALYSIS_USD;
/** What a skipped or re-queued record holds its slot for (DynamoDB reads, an SQS send), ms. */
export const HANDLING_MS = 100;
/** The analysis queue's visibility timeout: 6 × the consumer's 180-s timeout (work-queue.ts). */
const VISIBILITY_MS = 6 * 180_000;

/**
 * The night's spend ledger as spend-cap.ts uses it: `admit` is `admitCall`'s rule (admitted while
 * the night's recorded spend is below the cap), `bill` is `recordSpend` at the time the answer
 * arrives. Costs are applied in time order, so an admission only sees answers already arrived.
 * Sums are kept in integer ticks and read with the real `ticksToUsd`: the state table adds
 * decimals exactly, and a float sum would admit one call too many at a cap that is a multiple
 * of the cost.
 */
export class ModelledSpendLedger {
  private readonly spent = new Map<string, number>();
  private readonly pending = new MinHeap<{ at: number; night: string; ticks: number }>((e) => e.at);
  admitted = 0;
  skipped = 0;

  constructor(readonly capUsd?: number) {}

  /** The night to bill under, or undefined when the cap is reached (the record is skipped). */
  admit(now: number): string | undefined {
    this.settle(now);
    const night = nightOf(now);
    if (this.capUsd !== undefined && this.spentOn(night) >= this.capUsd) {
      this.skipped += 1;
      return undefined;
    }
    this.admitted += 1;
    return night;
  }

  /** A billed answer of `ticks` arriving at `at`, under the night it was admitted in. */
  bill(night: string, ticks: number, at: number): void {
    this.pending.push({ at, night, ticks });
  }

  /** The night's recorded spend once every answer arrived by `now` is added. */
  spentOn(night: string, now = Number.NEGATIVE_INFINITY): number {
    this.settle(now);
    return ticksToUsd(this.spent.get(night) ?? 0);
  }

  private settle(now: number): void {
    while (this.pending.size > 0 && this.pending.peek()!.at <= now) {
      const e = this.pending.pop();
      this.spent.set(e.night, (this.spent.get(e.night) ?? 0) + e.ticks);
    }
  }
}

interface Message {
  readonly visibleAt: number;
  readonly deferrals: number;
}

/** One xAI attempt of an invocation (an in-invocation retry is its own event, in time order). */
interface Attempt {
  readonly at: number;
  /** When the invocation started (its 180 s run from here). */
  readonly start: number;
  readonly attempt: number;
  readonly message: Message;
  readonly night: string;
}

/** The simulation's state: every event is processed in time order, so the rate window is too. */
interface Night {
  readonly xai: XaiRateWindow;
  readonly ledger: ModelledSpendLedger;
  readonly latency: () => number;
  readonly random: () => number;
  readonly slots: MinHeap<number>;
  readonly visible: MinHeap<Message>;
  readonly retries: MinHeap<Attempt>;
  readonly tally: {
    http429: number;
    deferrals: number;
    rateLimitFailures: number;
    maxDeferralsOfOne: number;
    minute: Map<number, number>;
  };
  analysed: number;
  last: number;
}

/** A slot takes a visible message at `start`: admitted against the cap, or skipped. */
function begin(n: Night, start: number, message: Message): void {
  const night = n.ledger.admit(start);
  if (night === undefined) {
    n.slots.push(start + HANDLING_MS);
    return;
  }
  attempt(n, { at: start, start, attempt: 1, message, night });
}

/** One xAI request: answered, waited out inside the invocation, or the record re-queued. */
function attempt(n: Night, a: Attempt): void {
  const minute = Math.floor(a.at / 60_000);
  n.tally.minute.set(minute, (n.tally.minute.get(minute) ?? 0) + 1);
  const admission = n.xai.admit(a.at, MODEL_ANALYSIS.countedTokens);
  if (admission.ok) {
    const end = a.at + n.latency();
    n.analysed += 1;
    n.last = Math.max(n.last, end);
    n.ledger.bill(a.night, COST_PER_ANALYSIS_TICKS, end);
    n.slots.push(end);
    return;
  }
  n.tally.http429 += 1;
  const waitMs = admission.retryAfterSeconds * 1000;
  const left = a.start + INVOCATION_MS - RESERVE_MS - (a.at + waitMs);
  if (a.attempt < 3 && left >= 20_000) {
    n.retries.push({ ...a, at: a.at + waitMs, attempt: a.attempt + 1 });
    return;
  }
  const deferrals = a.message.deferrals;
  if (deferrals >= MAX_RATE_LIMIT_DEFERRALS) {
    // deferRateLimited declines: the record fails and SQS delivers it again.
    n.tally.rateLimitFailures += 1;
    n.visible.push({ visibleAt: a.at + VISIBILITY_MS, deferrals });
  } else {
    n.tally.deferrals += 1;
    n.tally.maxDeferralsOfOne = Math.max(n.tally.maxDeferralsOfOne, deferrals + 1);
    const delayS = deferralDelaySeconds(waitMs, n.random);
    n.visible.push({ visibleAt: a.at + delayS * 1000, deferrals: deferrals + 1 });
  }
  n.slots.push(a.at + HANDLING_MS);
}

/** Runs events until no message is left: the next retry, or a free slot taking a message. */
function play(n: Night): void {
  while (n.visible.size > 0 || n.retries.size > 0) {
    const nextRetry = n.retries.peek()?.at ?? Number.POSITIVE_INFINITY;
    const canStart = n.slots.size > 0 && n.visible.size > 0;
    const nextStart = canStart
      ? Math.max(n.slots.peek()!, n.visible.peek()!.visibleAt)
      : Number.POSITIVE_INFINITY;
    if (nextRetry <= nextStart) attempt(n, n.retries.pop());
    else {
      n.slots.pop();
      begin(n, nextStart, n.visible.pop());
    }
  }
}

function capOutcome(n: Night, concurrency: number): CapOutcome | undefined {
  const capUsd = n.ledger.capUsd;
  if (capUsd === undefined) return undefined;
  const spentUsd = n.ledger.spentOn(nightOf(ANALYSIS_NIGHT_START), Number.POSITIVE_INFINITY);
  const overshootUsd = Math.max(0, spentUsd - capUsd);
  const boundUsd = concurrency * MAX_COST_PER_ANALYSIS_USD;
  return {
    capUsd,
    sent: n.analysed,
    admitted: n.ledger.admitted,
    skippedBudget: n.ledger.skipped,
    spentUsd,
    overshootUsd,
    boundUsd,
    withinBound: overshootUsd <= boundUsd,
  };
}

/** Plays one night; see the module comment for what is modelled. */
export function runAnalysisNight(opts: AnalysisNightOptions): AnalysisNightResult {
  const started = performance.now();
  const pacing = stages.prod.analysisPacing;
  const plan = deriveConcurrency(opts.portfolios, ANALYSIS_NIGHT_START, pacing);
  const concurrency = opts.fixedConcurrency ?? plan.concurrency;
  const random = seeded(opts.seed ?? 17);
  const [lo, hi] = opts.latencyMs ?? [8_000, 20_000];
  const n: Night = {
    xai: new XaiRateWindow(pacing),
    ledger: new ModelledSpendLedger(opts.capUsd),
    latency: () => lo + (hi - lo) * random(),
    random,
    slots: new MinHeap<number>((t) => t),
    visible: new MinHeap<Message>((m) => m.visibleAt),
    retries: new MinHeap<Attempt>((a) => a.at),
    tally: {
      http429: 0,
      deferrals: 0,
      rateLimitFailures: 0,
      maxDeferralsOfOne: 0,
      minute: new Map(),
    },
    analysed: 0,
    last: ANALYSIS_NIGHT_START,
  };
  for (let i = 0; i < concurrency; i++) n.slots.push(ANALYSIS_NIGHT_START);
  for (let i = 0; i < opts.portfolios; i++)
    n.visible.push({ visibleAt: ANALYSIS_NIGHT_START, deferrals: 0 });
  play(n);
  return {
    portfolios: opts.portfolios,
    concurrency,
    boundBy: opts.fixedConcurrency === undefined ? plan.boundBy : 'fixed',
    analysed: n.analysed,
    completionMs: n.last - ANALYSIS_NIGHT_START,
    deadlineHeld: n.last <= plan.deadlineMs,
    http429: n.tally.http429,
    deferrals: n.tally.deferrals,
    costUsd: n.analysed * COST_PER_ANALYSIS_USD,
    maxRequestsInMinute: Math.max(0, ...n.tally.minute.values()),
    rateLimitFailures: n.tally.rateLimitFailures,
    maxDeferralsOfOne: n.tally.maxDeferralsOfOne,
    cap: capOutcome(n, concurrency),
    realMs: performance.now() - started,
  };
}
