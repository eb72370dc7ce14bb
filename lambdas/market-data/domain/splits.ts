/**
 * Stock splits and the stored history. Polygon's adjusted prices are on the share basis of the
 * day of the request, so a stored row is on the basis of the New York date it was fetched
 * (`fetchedAt`): it already reflects every split executed on or before that date, and none after.
 * After a split with ratio r = splitTo / splitFrom executes on session S, every stored row of a
 * session before S that was fetched before S is re-based: prices divided by r, volume multiplied
 * by r, MA50 and Wilder's average gain and loss divided by r (RSI is scale-free, unchanged).
 * The row is then on the basis of the day it is re-based, which becomes its `fetchedAt`, so
 * applying the same split twice changes nothing. Pure functions.
 */
import { nyDateOf } from '../../platform/ny-time';
import type { TickerDataRow } from './ticker-rows';

/** A split as the refresh needs it (the Polygon client's `StockSplit`). */
export interface SplitEvent {
  readonly ticker: string;
  /** First session traded on the new basis, `YYYY-MM-DD`. */
  readonly executionDate: string;
  readonly splitFrom: number;
  readonly splitTo: number;
}

/** Shares after per share before: 10 for a 10-for-1, 0.1 for a 1-for-10 reverse split. */
export const splitRatio = (s: Pick<SplitEvent, 'splitFrom' | 'splitTo'>): number =>
  s.splitTo / s.splitFrom;

/** The New York date whose share basis a row's prices are on (the day it was fetched). */
export function basisDate(row: Pick<TickerDataRow, 'fetchedAt'>): string {
  const ms = typeof row.fetchedAt === 'string' ? Date.parse(row.fetchedAt) : NaN;
  // A row without a readable fetch time is taken as older than any split (re-based once, then
  // stamped), which is right for every row this service wrote before it knew of splits.
  return Number.isFinite(ms) ? nyDateOf(ms) : '0000-00-00';
}

/** The factor a row's prices must be divided by to reach the basis of the splits given. */
export function rebaseFactor(row: TickerDataRow, splits: readonly SplitEvent[]): number {
  const basis = basisDate(row);
  let factor = 1;
  for (const s of splits) {
    if (s.ticker === row.ticker && row.asOf < s.executionDate && basis < s.executionDate)
      factor *= splitRatio(s);
  }
  return factor;
}

const div = (x: number | undefined, f: number) => (x === undefined ? undefined : x / f);

/** One row divided by `factor` (volume multiplied), stamped as fetched at `rebasedAt`. */
export function rebaseRow(row: TickerDataRow, factor: number, rebasedAt: string): TickerDataRow {
  const out: Record<string, unknown> = {
    ...row,
    price: row.price / factor,
    open: div(row.open, factor),
    high: div(row.high, factor),
    low: div(row.low, factor),
    vwap: div(row.vwap, factor),
    volume: row.volume === undefined ? undefined : row.volume * factor,
    ma50: div(row.ma50, factor),
    rsiAvgGain: div(row.rsiAvgGain, factor),
    rsiAvgLoss: div(row.rsiAvgLoss, factor),
    // Its closes are not continued from: the next night reads the re-based rows instead.
    recentCloses: undefined,
    fetchedAt: rebasedAt,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as unknown as TickerDataRow;
}

/**
 * The executed splits (as of `rebasedAt`) that would re-base at least one of the rows: the ones
 * the refresh tells people about (a split learnt again later re-bases nothing).
 */
export function splitsRebasing(
  rows: readonly TickerDataRow[],
  splits: readonly SplitEvent[],
  rebasedAt: string,
): SplitEvent[] {
  const today = basisDate({ fetchedAt: rebasedAt });
  return splits.filter(
    (s) =>
      s.executionDate <= today &&
      rows.some(
        (r) => r.ticker === s.ticker && r.asOf < s.executionDate && basisDate(r) < s.executionDate,
      ),
  );
}

/**
 * A ticker's rows (oldest first) on one basis, that of `rebasedAt` (an ISO time; splits executed
 * after its New York date are ignored): the rows before an executed split that were
 * fetched before it re-based (see the module comment), the row of each split's session marked
 * with `split: {from, to}`. Returns every row, and the ones that changed (to be written).
 */
export function applySplits(
  rows: readonly TickerDataRow[],
  splits: readonly SplitEvent[],
  rebasedAt: string,
): { rows: TickerDataRow[]; changed: TickerDataRow[] } {
  // Only executed splits: one announced for a later date changes nothing until it executes.
  const today = basisDate({ fetchedAt: rebasedAt });
  const executed = splits.filter((s) => s.executionDate <= today);
  const changed: TickerDataRow[] = [];
  const out = rows.map((row) => {
    const factor = rebaseFactor(row, executed);
    let next = factor === 1 ? row : rebaseRow(row, factor, rebasedAt);
    const split = executed.find((s) => s.ticker === row.ticker && s.executionDate === row.asOf);
    if (split && row.split === undefined)
      next = { ...next, split: { from: split.splitFrom, to: split.splitTo } };
    if (next !== row) changed.push(next);
    return next;
  });
  return { rows: out, changed };
}
