import { MA50_PERIOD, RSI_PERIOD, rsiFromAverages, rsiStep, type RsiState } from './indicators';
import { indicatorSeries } from './indicators';
import { sessionCloseIso } from '../../platform/ny-time';
import { closesBefore, windowOf } from './close-window';

/** Version of the indicator computation stamped on rows whose `rsi`/`ma50` are final. */
export const INDICATOR_VERSION = 1;

/** A `ticker-data` row as this service writes it (SYSTEM.md attribute names). */
export interface TickerDataRow {
  readonly ticker: string;
  /** The session's 16:00 New York close as UTC ISO-8601 with `Z`: deterministic per session. */
  readonly timestamp: string;
  /** The session date, `YYYY-MM-DD` (New York). */
  readonly asOf: string;
  /** Session close. */
  readonly price: number;
  readonly open?: number;
  readonly high?: number;
  readonly low?: number;
  readonly volume?: number;
  readonly vwap?: number;
  readonly trades?: number;
  readonly rsi?: number;
  readonly ma50?: number;
  /** Wilder averages behind `rsi`, so the next session continues the series exactly. */
  readonly rsiAvgGain?: number;
  readonly rsiAvgLoss?: number;
  /** The last 49 closes up to this row's, on the row a job computed last (./close-window.ts). */
  readonly recentCloses?: readonly number[];
  /** Present once `rsi`/`ma50` have been computed for this row (absent on raw backfill rows). */
  readonly indicatorVersion?: number;
  readonly source: 'polygon-grouped' | 'polygon-range';
  /** When the prices were fetched (or re-based): they are on that New York date's share basis. */
  readonly fetchedAt: string;
  /** On the row of a split's execution session: shares before (`from`) and after (`to`). */
  readonly split?: { readonly from: number; readonly to: number };
}

/** A daily bar as a row needs it (the Polygon client's `DailyBar` extends it). */
export interface BarLike {
  /** Polygon symbol, e.g. `NVDA`. */
  readonly ticker: string;
  /** The New York calendar date (`YYYY-MM-DD`) of the session the bar belongs to. */
  readonly session: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Volume-weighted average price, when Polygon provides it. */
  readonly vwap?: number;
  /** Number of trades, when Polygon provides it. */
  readonly trades?: number;
}

/** A raw row for a bar (indicators still to be computed). */
export function rowFromBar(
  ticker: string,
  bar: BarLike,
  source: TickerDataRow['source'],
  fetchedAt: string,
): TickerDataRow {
  return {
    ticker,
    timestamp: sessionCloseIso(bar.session),
    asOf: bar.session,
    price: bar.close,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    volume: bar.volume,
    vwap: bar.vwap,
    trades: bar.trades,
    source,
    fetchedAt,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Keeps the rows this service wrote (date `asOf`, deterministic `timestamp`) and drops rows of the
 * old Python service (no `Z`, microseconds, one row per run rather than per session), which cannot
 * be trusted as one close per session. Returns them ascending by session, one per session.
 */
export function ownRows(items: readonly Record<string, unknown>[]): TickerDataRow[] {
  const bySession = new Map<string, TickerDataRow>();
  for (const item of items) {
    const asOf = item.asOf;
    if (typeof asOf !== 'string' || !DATE.test(asOf)) continue;
    if (item.timestamp !== sessionCloseIso(asOf)) continue;
    if (typeof item.price !== 'number' || !Number.isFinite(item.price)) continue;
    bySession.set(asOf, item as unknown as TickerDataRow);
  }
  return [...bySession.values()].sort((a, b) => (a.asOf < b.asOf ? -1 : a.asOf > b.asOf ? 1 : 0));
}

/**
 * Computes RSI(14)/MA50 for every row of an ascending, one-per-session history that does not have
 * them yet, and returns those rows completed. A row that has too little history before it gets no
 * indicator (never an invented one). The RSI continues exactly from the stored Wilder averages of
 * the last completed row when there is one; otherwise the series is computed from its start.
 */
export function completeIndicators(
  rows: readonly TickerDataRow[],
  opts: { readonly storedWindow?: boolean } = {},
): TickerDataRow[] {
  const first = rows.findIndex((r) => r.indicatorVersion === undefined);
  if (first < 0) return [];
  // A short history (the steady night reads only the previous row) continues from that row's
  // stored closes; `at` is where rows[0] sits in `closes`.
  const closes = [
    ...(opts.storedWindow ? closesBefore(rows, first) : []),
    ...rows.map((r) => r.price),
  ];
  const at = closes.length - rows.length;
  const prev = rows[first - 1];
  const out: TickerDataRow[] = [];
  if (prev && prev.rsiAvgGain !== undefined && prev.rsiAvgLoss !== undefined) {
    let state: RsiState = {
      avgGain: prev.rsiAvgGain,
      avgLoss: prev.rsiAvgLoss,
      lastClose: prev.price,
      rsi: rsiFromAverages(prev.rsiAvgGain, prev.rsiAvgLoss),
    };
    for (let i = first; i < rows.length; i++) {
      const c = at + i;
      state = rsiStep(state, closes[c], RSI_PERIOD);
      const ma50 =
        c + 1 >= MA50_PERIOD ? mean(closes.slice(c + 1 - MA50_PERIOD, c + 1)) : undefined;
      out.push(
        withIndicators(rows[i], {
          rsi: state.rsi,
          ma50,
          avgGain: state.avgGain,
          avgLoss: state.avgLoss,
        }),
      );
    }
    return withWindow(out, closes);
  }
  const series = indicatorSeries(closes);
  for (let i = first; i < rows.length; i++) out.push(withIndicators(rows[i], series[i]));
  return withWindow(out, closes);
}

/** Puts the window of the history's last closes on the last row (the next session's start). */
function withWindow(out: TickerDataRow[], closes: readonly number[]): TickerDataRow[] {
  const window = windowOf(closes);
  if (window) out[out.length - 1] = { ...out[out.length - 1], recentCloses: window };
  return out;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function withIndicators(
  row: TickerDataRow,
  p: { rsi?: number; ma50?: number; avgGain?: number; avgLoss?: number },
): TickerDataRow {
  const { rsi: _r, ma50: _m, rsiAvgGain: _g, rsiAvgLoss: _l, recentCloses: _c, ...rest } = row;
  return {
    ...rest,
    ...(p.rsi !== undefined ? { rsi: p.rsi } : {}),
    ...(p.ma50 !== undefined ? { ma50: p.ma50 } : {}),
    ...(p.avgGain !== undefined && p.avgLoss !== undefined
      ? { rsiAvgGain: p.avgGain, rsiAvgLoss: p.avgLoss }
      : {}),
    indicatorVersion: INDICATOR_VERSION,
  };
}
