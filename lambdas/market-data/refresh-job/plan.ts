import { planRefresh, type StoredState } from '../domain/refresh-plan';
import type { TickerDataRow } from '../domain/ticker-rows';
import type { JobRuntime, NoDataMemo } from '../ports';
import type { RefreshJob } from './job';
import { knownNoData } from './no-data';

/** A job whose Polygon calls are decided. */
export type PlannedJob = RefreshJob & { readonly plan: NonNullable<RefreshJob['plan']> };

/**
 * Phase 2: on the first attempt, plans the cheapest Polygon calls (skipping the tickers the memo
 * knows have no data for the session) and keeps the plan in the job, so retries follow it
 * instead of re-planning. A resumed job keeps its plan and knows of no memoised ticker.
 */
export async function planJob(
  job: RefreshJob,
  stored: ReadonlyMap<string, readonly TickerDataRow[]>,
  deps: { readonly noData?: NoDataMemo; readonly runtime: Pick<JobRuntime, 'log'> },
): Promise<{ job: PlannedJob; knownNoData: ReadonlySet<string> }> {
  if (job.plan) return { job: { ...job, plan: job.plan }, knownNoData: new Set<string>() };
  const states = storedStates(job.tickers, stored);
  const lacking = states
    .filter((s) => s.lastSession === undefined || s.lastSession < job.session)
    .map((s) => s.ticker);
  const known = await knownNoData(lacking, job.session, deps);
  const plan = planRefresh(
    job.session,
    states.filter((s) => !known.has(s.ticker)),
  );
  deps.runtime.log('info', 'Refresh planned', {
    session: job.session,
    tickers: job.tickers.length,
    strategy: plan.strategy,
    calls: plan.calls.length,
    alternativeCost: plan.alternativeCost,
    needs: plan.needs,
    knownNoData: known.size,
  });
  return {
    job: {
      ...job,
      plan: { strategy: plan.strategy, calls: [...plan.calls] },
      rebuild: rebuildOf(job.tickers, plan.rebuildSince),
    },
    knownNoData: known,
  };
}

/** What the planner needs to know of each ticker's stored rows. */
function storedStates(
  tickers: readonly string[],
  stored: ReadonlyMap<string, readonly TickerDataRow[]>,
): StoredState[] {
  return tickers.map((ticker) => {
    const rows = stored.get(ticker) ?? [];
    const last = rows[rows.length - 1];
    return {
      ticker,
      lastSession: last?.asOf,
      hasState: last?.rsiAvgGain !== undefined && last?.rsiAvgLoss !== undefined,
    };
  });
}

/** The planner's per-ticker rebuild dates as one date and ticker indexes (all share one date). */
export function rebuildOf(
  tickers: readonly string[],
  since: Readonly<Record<string, string>>,
): RefreshJob['rebuild'] {
  const dates = new Set(Object.values(since));
  if (dates.size === 0) return undefined;
  if (dates.size > 1)
    throw new Error(`Rebuild dates must agree within a job, got ${[...dates].join(', ')}`);
  const indexes = tickers.flatMap((t, i) => (since[t] !== undefined ? [i] : []));
  return { since: [...dates][0], indexes };
}
