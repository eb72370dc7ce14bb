import { nyDateOf } from '../../platform/ny-time';
import { errorText } from '../../platform/text';
import { normaliseTicker } from '../../platform/ticker';
import { basisDate, splitRatio, type SplitEvent } from '../domain/splits';
import type { HeldPositions, JobRuntime, SplitEvents } from '../ports';
import type { JobProgress } from './deferral';
import { pauseFor, type Pause } from './fetch';
import { RefreshFailedError } from './job';

/** Oldest execution date looked up: as far back as a rebuilt history is read (≈ 400 sessions). */
const MAX_WINDOW_DAYS = 600;

/**
 * Phase 3b (every bar is fetched): the splits of the job's tickers executed since the share basis
 * of the oldest "newest stored row" of a ticker this job extends (the day that row was fetched)
 * through today, in one Polygon call (plus pages). Nothing is asked when no stored history is
 * extended (new tickers only, a re-run of a complete night), or without the port. A failure
 * that waiting can fix pauses the job.
 */
export async function learnSplits(
  progress: JobProgress,
  deps: { readonly splits?: SplitEvents; readonly runtime: JobRuntime },
): Promise<readonly SplitEvent[] | Pause> {
  const window = splitWindow(progress, deps.runtime.now());
  if (!deps.splits || !window) return [];
  let all: readonly SplitEvent[];
  try {
    all = await deps.splits.splits(window.from, window.to);
  } catch (err) {
    const pause = pauseFor(err);
    if (pause) return pause;
    throw new RefreshFailedError(
      `Polygon splits ${window.from}..${window.to} failed: ${errorText(err)}`,
    );
  }
  progress.polygonCalls++;
  const tickers = new Set(progress.job.tickers);
  return all.filter((s) => tickers.has(s.ticker) && s.executionDate <= window.to);
}

/** The execution dates to ask about, or nothing when no stored row could be on an old basis. */
function splitWindow(
  progress: JobProgress,
  nowMs: number,
): { from: string; to: string } | undefined {
  if (progress.job.plan.strategy === 'none') return undefined;
  const to = nyDateOf(nowMs);
  const floor = nyDateOf(nowMs - MAX_WINDOW_DAYS * 86_400_000);
  let from: string | undefined;
  for (const rows of progress.stored.values()) {
    // Only a history this job extends can end up on two bases: its newest computed row (raw rows
    // a deferred invocation persisted are this job's own) is older than the session.
    const newest = rows.findLast((r) => r.indicatorVersion !== undefined);
    if (!newest || newest.asOf >= progress.job.session) continue;
    const basis = basisDate(newest);
    if (from === undefined || basis < from) from = basis;
  }
  if (from === undefined || from > to) return undefined;
  return { from: from < floor ? floor : from, to };
}

/**
 * One INFO line per split applied: the ticker, the ratio, and how many positions of active
 * portfolios hold it (their shares and cost basis are the portfolio API's to adjust).
 */
export async function logSplits(
  applied: readonly SplitEvent[],
  deps: { readonly held?: HeldPositions; readonly runtime: Pick<JobRuntime, 'log'> },
): Promise<void> {
  if (applied.length === 0) return;
  const holding = await positionsHolding(applied, deps);
  for (const s of applied)
    deps.runtime.log('info', 'Split applied: history re-based', {
      ticker: s.ticker,
      executionDate: s.executionDate,
      splitFrom: s.splitFrom,
      splitTo: s.splitTo,
      ratio: splitRatio(s),
      positions: holding?.get(s.ticker),
    });
}

async function positionsHolding(
  applied: readonly SplitEvent[],
  deps: { readonly held?: HeldPositions; readonly runtime: Pick<JobRuntime, 'log'> },
): Promise<Map<string, number> | undefined> {
  if (!deps.held) return undefined;
  const counts = new Map(applied.map((s) => [s.ticker, 0]));
  try {
    for (const h of await deps.held.activePositions())
      for (const p of h.positions) {
        const t = normaliseTicker(p.ticker);
        if (t.ok && counts.has(t.ticker)) counts.set(t.ticker, (counts.get(t.ticker) ?? 0) + 1);
      }
    return counts;
  } catch (err) {
    deps.runtime.log('warn', 'Positions holding a split ticker not counted', {
      error: errorText(err),
    });
    return undefined;
  }
}
