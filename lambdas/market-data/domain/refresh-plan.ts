import { previousTradingDay, tradingDaysBack, tradingDaysBetween } from './market-calendar';

/** One Polygon request of a refresh plan. */
export type PolygonCall =
  | { readonly kind: 'grouped'; readonly date: string }
  | { readonly kind: 'range'; readonly ticker: string; readonly from: string; readonly to: string };

/** Identifies a call in a job's `done` list. */
export const callKey = (c: PolygonCall): string =>
  c.kind === 'grouped' ? `grouped:${c.date}` : `range:${c.ticker}`;

/** What is stored for a ticker, as far as planning needs it. */
export interface StoredState {
  readonly ticker: string;
  /** Newest session with a row of ours. */
  readonly lastSession?: string;
  /** Whether that row carries Wilder averages (the series can continue from it). */
  readonly hasState: boolean;
}

export type TickerNeed = 'fresh' | 'next' | 'gap' | 'new';

export interface RefreshPlan {
  /** `grouped`: one grouped-daily call per needed session; `range`: per-ticker history calls. */
  readonly strategy: 'none' | 'grouped' | 'range';
  readonly calls: readonly PolygonCall[];
  readonly needs: Readonly<Record<TickerNeed, number>>;
  /** What the rejected strategy would have cost, for the log. */
  readonly alternativeCost: number;
  /**
   * First-time (or unrecoverably stale) tickers and the first session of their rebuilt history:
   * rows before it are not continued from.
   */
  readonly rebuildSince: Readonly<Record<string, string>>;
}

/** Sessions a first-time ticker gets in a shared backfill: MA50 plus ~60 sessions for RSI to settle. */
export const BACKFILL_SESSIONS = 110;
/** Calendar days a per-ticker history call reaches back (≈ 275 sessions). */
export const RANGE_LOOKBACK_DAYS = 400;

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * Chooses the cheapest set of Polygon calls that brings every ticker up to `session`:
 * - `grouped`: one grouped-daily call per session that any ticker lacks (a first-time ticker lacks
 *   the last BACKFILL_SESSIONS sessions). A night where every ticker is one session behind costs 1.
 * - `range`: one grouped call for the tickers that are one session behind, plus one history call
 *   per ticker that is further behind or new.
 * The cheaper wins (ties go to `range`, which brings more history). Pure: the caller persists the
 * plan in the job so that retries and deferrals follow it instead of re-planning.
 */
export function planRefresh(session: string, states: readonly StoredState[]): RefreshPlan {
  const prev = previousTradingDay(session);
  const needs: Record<TickerNeed, number> = { fresh: 0, next: 0, gap: 0, new: 0 };
  const groupedDates = new Set<string>();
  const behind: StoredState[] = [];
  const fresh = new Set<string>();
  let anyNext = false;
  for (const s of states) {
    if (s.lastSession !== undefined && s.lastSession >= session) {
      needs.fresh++;
    } else if (s.lastSession === prev && s.hasState) {
      needs.next++;
      anyNext = true;
      groupedDates.add(session);
    } else if (
      s.lastSession !== undefined &&
      s.hasState &&
      tradingDaysBetween(s.lastSession, session).length <= BACKFILL_SESSIONS
    ) {
      needs.gap++;
      behind.push(s);
      for (const d of tradingDaysBetween(s.lastSession, session)) groupedDates.add(d);
    } else {
      needs.new++;
      behind.push(s);
      fresh.add(s.ticker);
      for (const d of tradingDaysBack(session, BACKFILL_SESSIONS)) groupedDates.add(d);
    }
  }
  const groupedCost = groupedDates.size;
  const rangeCost = (anyNext ? 1 : 0) + behind.length;
  if (groupedCost === 0)
    return { strategy: 'none', calls: [], needs, alternativeCost: 0, rebuildSince: {} };
  const rebuildSince: Record<string, string> = {};
  if (rangeCost <= groupedCost) {
    const calls: PolygonCall[] = anyNext ? [{ kind: 'grouped', date: session }] : [];
    for (const s of behind) {
      const from = fresh.has(s.ticker)
        ? addDays(session, -RANGE_LOOKBACK_DAYS)
        : (s.lastSession as string);
      if (fresh.has(s.ticker)) rebuildSince[s.ticker] = from;
      calls.push({ kind: 'range', ticker: s.ticker, from, to: session });
    }
    return { strategy: 'range', calls, needs, alternativeCost: groupedCost, rebuildSince };
  }
  const backfillStart = tradingDaysBack(session, BACKFILL_SESSIONS)[0];
  for (const t of fresh) rebuildSince[t] = backfillStart;
  // Oldest first, so that an interrupted backfill leaves contiguous history behind it.
  const calls = [...groupedDates].sort().map((date): PolygonCall => ({ kind: 'grouped', date }));
  return { strategy: 'grouped', calls, needs, alternativeCost: rangeCost, rebuildSince };
}
