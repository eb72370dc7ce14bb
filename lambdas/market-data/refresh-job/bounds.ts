import { FIRST_SUPPORTED_YEAR, isTradingDay, tradingDaysBack } from '../domain/market-calendar';
import {
  BACKFILL_SESSIONS,
  RANGE_LOOKBACK_DAYS,
  callKey,
  type PolygonCall,
} from '../domain/refresh-plan';

/**
 * The checks a refresh-job message must pass beyond its shape, so that a forged or corrupted
 * message is dropped as malformed (counted, alarmed) instead of throwing a RangeError on every
 * receive or spending the Polygon budget: the session is a real trading day, and the plan, the
 * progress and the rebuild stay inside what the planner (../domain/refresh-plan.ts) can produce
 * for that session and those tickers. Pure.
 */

/** The last year a session may fall in (the calendar computes holidays by rule up to any year). */
const LAST_SUPPORTED_YEAR = 2100;

/** The fields the bounds look at (a RefreshJob; structural, so ./job.ts can import this). */
export interface JobBoundsInput {
  readonly session: string;
  readonly tickers: readonly string[];
  readonly plan?: {
    readonly strategy: 'none' | 'grouped' | 'range';
    readonly calls: readonly PolygonCall[];
  };
  readonly rebuild?: { readonly since: string; readonly indexes: readonly number[] };
  readonly done: readonly string[];
}

const DAY_MS = 86_400_000;
const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** A real calendar date `YYYY-MM-DD` within the calendar's years (`2024-13-45` is not). */
export function isRealDate(date: string): boolean {
  const ms = dayMs(date);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) return false;
  const year = Number(date.slice(0, 4));
  return year >= FIRST_SUPPORTED_YEAR && year <= LAST_SUPPORTED_YEAR;
}

/** A date within RANGE_LOOKBACK_DAYS before `session` (inclusive), and before it. */
const withinLookback = (date: string, session: string) =>
  isRealDate(date) &&
  date < session &&
  dayMs(date) >= dayMs(session) - RANGE_LOOKBACK_DAYS * DAY_MS;

/** What is wrong with one planned call, or undefined. */
function callProblem(
  call: PolygonCall,
  job: JobBoundsInput,
  window: ReadonlySet<string>,
  tickers: ReadonlySet<string>,
): string | undefined {
  const strategy = job.plan?.strategy;
  if (call.kind === 'grouped') {
    if (!window.has(call.date))
      return `grouped date ${call.date} is not one of the ${BACKFILL_SESSIONS} sessions up to ${job.session}`;
    if (strategy === 'range' && call.date !== job.session)
      return `a range plan's grouped call must be for the session ${job.session}`;
    return undefined;
  }
  if (strategy !== 'range') return `a ${strategy} plan has no range calls`;
  if (!tickers.has(call.ticker)) return `range call for ${call.ticker}, not a ticker of the job`;
  if (call.to !== job.session) return `range call ends ${call.to}, not on the session`;
  if (!withinLookback(call.from, job.session))
    return `range call starts ${call.from}, not within ${RANGE_LOOKBACK_DAYS} days before the session`;
  return undefined;
}

/** Every problem of a job message (at most five), empty when it is within bounds. */
export function jobBoundsProblems(job: JobBoundsInput): string[] {
  if (!isRealDate(job.session)) return [`session ${job.session} is not a real date`];
  if (!isTradingDay(job.session)) return [`session ${job.session} is not a trading day`];
  const problems: string[] = [];
  const tickers = new Set(job.tickers);
  if (tickers.size !== job.tickers.length) problems.push('tickers repeat');
  const calls = job.plan?.calls ?? [];
  if (job.plan?.strategy === 'none' && calls.length > 0) problems.push('a none plan has calls');
  const window = new Set(tradingDaysBack(job.session, BACKFILL_SESSIONS));
  for (const call of calls) {
    const problem = callProblem(call, job, window, tickers);
    if (problem) problems.push(problem);
    if (problems.length >= 5) return problems;
  }
  const keys = new Set(calls.map(callKey));
  if (keys.size !== calls.length) problems.push('plan repeats a call');
  if (new Set(job.done).size !== job.done.length || job.done.some((k) => !keys.has(k)))
    problems.push('done lists a call twice or one that is not planned');
  if (job.rebuild) {
    if (!job.plan) problems.push('rebuild without a plan');
    if (job.rebuild.since !== job.session && !withinLookback(job.rebuild.since, job.session))
      problems.push(
        `rebuild since ${job.rebuild.since} is not within ${RANGE_LOOKBACK_DAYS} days before the session`,
      );
    if (job.rebuild.indexes.some((i) => i >= job.tickers.length))
      problems.push('rebuild names a ticker index past the end of tickers');
  }
  return problems.slice(0, 5);
}
