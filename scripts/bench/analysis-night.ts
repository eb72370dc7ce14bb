/**
 * The analysis night of `npm run bench` (issue 17) on a simulated clock: N portfolios queued at
 * 06:00 UTC, the consumer concurrency derived by the real `deriveConcurrency` from the prod
 * stage's `analysisPacing`, xAI answering after 8-20 s (seeded, uniform) and refusing over
 * 1,800 requests / 10M tokens a minute with the simulator's own `XaiRateWindow`, 429s handled
 * as the service does (wait out Retry-After inside the 180 s invocation, else re-queue with the
 * real `deferralDelaySeconds`).
 *
 * What is modelled, not run, at every size (the real handler with dynalite and local SQS takes
 * about 1 s of CPU per analysis here, hours at 100,000): the Lambda poller (a slot takes the
 * next visible message the moment it is free), SQS (an in-memory list with visibility times),
 * DynamoDB, and the answer itself (its tokens and cost are the figures below). The clock is a
 * discrete-event one: time jumps from one event to the next, like scripts/bench/virtual-clock.ts.
 */
import { stages } from '../../lib/config/stages';
import { deriveConcurrency } from '../../lambdas/analysis/throughput';
import { deferralDelaySeconds } from '../../lambdas/analysis/rate-limit-deferral';
import { XAI_PRICES_USD_PER_MILLION } from '../../sim/xai-simulator';
import { XaiRateWindow } from '../../sim/xai-rate-window';

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

export interface AnalysisNightOptions {
  readonly portfolios: number;
  /** xAI latency bounds, ms. @default 8000-20000 */
  readonly latencyMs?: readonly [number, number];
  /** Overrides the derived concurrency (to show what a fixed one does). */
  readonly fixedConcurrency?: number;
  /** Spending cap of the night, USD: needs the cap branch (issue 17 item 2). */
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
  readonly capUsd?: number;
  readonly realMs: number;
}

/** 06:00 UTC on a Tuesday; the model never reads the real date. */
export const ANALYSIS_NIGHT_START = Date.UTC(2026, 10, 17, 6, 0, 0);
const INVOCATION_MS = 180_000;
const RESERVE_MS = 15_000;

/** Mulberry32: a seeded uniform generator, so a run is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A min-heap of numbers (slot free times, message visible times). */
class Heap {
  private readonly a: number[] = [];
  get size() {
    return this.a.length;
  }
  peek() {
    return this.a[0];
  }
  push(v: number) {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** One invocation from `start`: xAI attempts until an answer, or the record is re-queued. */
function invoke(
  start: number,
  xai: XaiRateWindow,
  latency: () => number,
  random: () => number,
  tally: { http429: number; deferrals: number; minute: Map<number, number> },
): { end: number; answered: boolean; requeueAt?: number } {
  let t = start;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const minute = Math.floor(t / 60_000);
    tally.minute.set(minute, (tally.minute.get(minute) ?? 0) + 1);
    const admission = xai.admit(t, MODEL_ANALYSIS.countedTokens);
    if (admission.ok) return { end: t + latency(), answered: true };
    tally.http429 += 1;
    const waitMs = admission.retryAfterSeconds * 1000;
    const left = start + INVOCATION_MS - RESERVE_MS - (t + waitMs);
    if (attempt === 3 || left < 20_000) {
      tally.deferrals += 1;
      const delayS = deferralDelaySeconds(waitMs, random);
      return { end: t, answered: false, requeueAt: t + delayS * 1000 };
    }
    t += waitMs;
  }
  return { end: t, answered: false, requeueAt: t + 60_000 };
}

/** Plays one night; see the module comment for what is modelled. */
export function runAnalysisNight(opts: AnalysisNightOptions): AnalysisNightResult {
  const started = performance.now();
  const pacing = stages.prod.analysisPacing;
  const plan = deriveConcurrency(opts.portfolios, ANALYSIS_NIGHT_START, pacing);
  const concurrency = opts.fixedConcurrency ?? plan.concurrency;
  const random = seeded(opts.seed ?? 17);
  const [lo, hi] = opts.latencyMs ?? [8_000, 20_000];
  const latency = () => lo + (hi - lo) * random();
  const xai = new XaiRateWindow(pacing);
  const tally = { http429: 0, deferrals: 0, minute: new Map<number, number>() };
  const slots = new Heap();
  for (let i = 0; i < concurrency; i++) slots.push(ANALYSIS_NIGHT_START);
  const visible = new Heap();
  for (let i = 0; i < opts.portfolios; i++) visible.push(ANALYSIS_NIGHT_START);
  let analysed = 0;
  let last = ANALYSIS_NIGHT_START;
  while (visible.size > 0) {
    const start = Math.max(slots.pop(), visible.pop());
    const out = invoke(start, xai, latency, random, tally);
    if (out.answered) {
      analysed += 1;
      last = Math.max(last, out.end);
    } else visible.push(out.requeueAt!);
    slots.push(out.end);
  }
  const completionMs = last - ANALYSIS_NIGHT_START;
  return {
    portfolios: opts.portfolios,
    concurrency,
    boundBy: opts.fixedConcurrency === undefined ? plan.boundBy : 'fixed',
    analysed,
    completionMs,
    deadlineHeld: last <= plan.deadlineMs,
    http429: tally.http429,
    deferrals: tally.deferrals,
    costUsd: analysed * COST_PER_ANALYSIS_USD,
    maxRequestsInMinute: Math.max(0, ...tally.minute.values()),
    capUsd: opts.capUsd,
    realMs: performance.now() - started,
  };
}
