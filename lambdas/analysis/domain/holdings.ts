import Big from 'big.js';
import { normaliseTicker } from '../../platform/ticker';
import { echo } from './user-text';
import { nyDateOf } from '../../platform/ny-time';
import { ownRows } from '../../market-data/domain/ticker-rows';

/**
 * A portfolio's holdings as the analysis sees them: positions combined per ticker with exact
 * decimals (weight of market value, unrealised P/L), and the market-data row chosen per ticker.
 * Pure.
 */

/** A position, money and quantities as exact decimal strings. */
export interface PositionRecord {
  readonly id: string;
  readonly ticker: string;
  readonly shares: string;
  readonly costBasis: string;
  readonly marketValue?: string;
}

/** The latest market data of one ticker, as the analysis uses it. */
export interface MarketRow {
  readonly price: number;
  /** Session date, `YYYY-MM-DD`. */
  readonly asOf: string;
  readonly rsi?: number;
  readonly ma50?: number;
  /** True when the row was written by the old Python service (used only if no own row exists). */
  readonly legacy: boolean;
  /** The newest stock split within the last {@link RECENT_SPLIT_SESSIONS} sessions read. */
  readonly recentSplit?: RecentSplit;
}

/** A split the prompt mentions: executed on session `asOf`, `from` shares became `to`. */
export interface RecentSplit {
  readonly asOf: string;
  readonly from: number;
  readonly to: number;
}

/** How far back a split is still worth telling the model about (its P/L may use old shares). */
export const RECENT_SPLIT_SESSIONS = 30;

const DATE_PREFIX = /^(\d{4}-\d{2}-\d{2})/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Picks the row to analyse from a ticker's newest `ticker-data` items (any order).
 *
 * This service's own rows win (`asOf` a session date, deterministic `timestamp`): the newest
 * session. Only when a ticker has none (not refreshed since the cut-over) is the newest old
 * Python row used: its `asOf` is the date part of its `asOf`, or else the New York date of its
 * `timestamp` (read as UTC when it carries no zone), and its indicators are taken as stored.
 */
export function selectMarketRow(items: readonly Record<string, unknown>[]): MarketRow | undefined {
  const own = ownRows(items);
  const newest = own[own.length - 1];
  if (newest) {
    const recentSplit = newestSplit(own.slice(-RECENT_SPLIT_SESSIONS));
    return {
      price: newest.price,
      asOf: newest.asOf,
      rsi: finite(newest.rsi),
      ma50: finite(newest.ma50),
      legacy: false,
      ...(recentSplit ? { recentSplit } : {}),
    };
  }
  let best: { row: MarketRow; sortKey: string } | undefined;
  for (const item of items) {
    const price = finite(item.price);
    const asOf = legacyAsOf(item);
    if (price === undefined || price <= 0 || asOf === undefined) continue;
    const sortKey = `${asOf}|${typeof item.timestamp === 'string' ? item.timestamp : ''}`;
    if (best && best.sortKey >= sortKey) continue;
    best = {
      sortKey,
      row: { price, asOf, rsi: finite(item.rsi), ma50: finite(item.ma50), legacy: true },
    };
  }
  return best?.row;
}

/** The newest row marked with a readable split (`split: {from, to}`, both positive). */
function newestSplit(rows: readonly { asOf: string; split?: unknown }[]): RecentSplit | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    const split = rows[i].split as { from?: unknown; to?: unknown } | undefined;
    const from = finite(split?.from);
    const to = finite(split?.to);
    if (from !== undefined && to !== undefined && from > 0 && to > 0)
      return { asOf: rows[i].asOf, from, to };
  }
  return undefined;
}

function legacyAsOf(item: Record<string, unknown>): string | undefined {
  if (typeof item.asOf === 'string') {
    const m = DATE_PREFIX.exec(item.asOf.trim());
    if (m) return m[1];
  }
  if (typeof item.timestamp !== 'string' || item.timestamp.trim() === '') return undefined;
  const ts = item.timestamp.trim();
  const ms = Date.parse(HAS_ZONE.test(ts) ? ts : `${ts}Z`);
  return Number.isNaN(ms) ? undefined : nyDateOf(ms);
}

function finite(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** One ticker of a portfolio: its positions aggregated, with market data when there is some. */
export interface Holding {
  readonly ticker: string;
  /** Positions (lots) of this ticker. */
  readonly positions: number;
  /** Total shares, exact decimal string. */
  readonly shares: string;
  /** Total cost basis, exact decimal string. */
  readonly costBasis: string;
  /**
   * shares × the data's close; without data, the positions' stored `marketValue` when every lot
   * has one. Exact decimal string; absent when unknown.
   */
  readonly marketValue?: string;
  /** Market value as % of the portfolio's known market value. */
  readonly weightPercent?: number;
  /** (market value − cost basis) / cost basis, %. */
  readonly plPercent?: number;
  /** Absent when the ticker has no `ticker-data` row. */
  readonly data?: MarketRow;
  /** Its data is older than the portfolio's `dataAsOf`. */
  readonly stale: boolean;
}

/** A portfolio's holdings ready for the prompt. */
export interface HoldingsSummary {
  /** By market value, largest first (unknown values last), then ticker. */
  readonly holdings: Holding[];
  /** Tickers held without any market data. */
  readonly missing: string[];
  /** Tickers whose data is older than `dataAsOf`. */
  readonly stale: string[];
  /** Newest session among the holdings' data; absent when no holding has data. */
  readonly dataAsOf?: string;
  /** Positions left out because their ticker, shares or cost basis is unusable. */
  readonly invalidPositions: { readonly id: string; readonly reason: string }[];
}

/**
 * Aggregates positions per ticker and computes weights and P/L with exact decimal arithmetic
 * (big.js on the stored decimal strings; only the final percentages become numbers, to 4
 * decimal places). Weights are shares of the total *known* market value, so they sum to 100
 * over the holdings that have a value.
 */
export function summarizeHoldings(
  positions: readonly PositionRecord[],
  rows: ReadonlyMap<string, MarketRow | undefined>,
): HoldingsSummary {
  const { groups, invalidPositions } = groupByTicker(positions);
  const drafts = [...groups.entries()].map(([ticker, g]) => {
    const data = rows.get(ticker);
    let value: Big | undefined;
    if (data) value = g.shares.times(new Big(String(data.price)));
    else if (g.values.every((v) => v !== undefined))
      value = g.values.reduce<Big>((s, v) => (v ? s.plus(v) : s), new Big(0));
    return { ticker, g, data, value };
  });
  const total = drafts.reduce((s, d) => (d.value ? s.plus(d.value) : s), new Big(0));
  const dataAsOf = drafts
    .map((d) => d.data?.asOf)
    .filter((a): a is string => a !== undefined)
    .sort()
    .pop();

  const holdings: Holding[] = drafts.map(({ ticker, g, data, value }) => ({
    ticker,
    positions: g.lots,
    shares: g.shares.toFixed(),
    costBasis: g.cost.toFixed(),
    marketValue: value?.toFixed(),
    weightPercent: value && total.gt(0) ? toNumber(value.div(total).times(100)) : undefined,
    plPercent:
      value && g.cost.gt(0) ? toNumber(value.minus(g.cost).div(g.cost).times(100)) : undefined,
    data,
    stale: data !== undefined && dataAsOf !== undefined && data.asOf < dataAsOf,
  }));
  holdings.sort(byValueThenTicker);
  return {
    holdings,
    missing: holdings.filter((h) => !h.data).map((h) => h.ticker),
    stale: holdings.filter((h) => h.stale).map((h) => h.ticker),
    dataAsOf,
    invalidPositions,
  };
}

/** The lots of one ticker added up. */
interface TickerGroup {
  lots: number;
  shares: Big;
  cost: Big;
  /** Each lot's stored `marketValue`. */
  values: (Big | undefined)[];
}

/** Positions added up per normalised ticker; unusable ones are set aside with the reason. */
function groupByTicker(positions: readonly PositionRecord[]): {
  groups: Map<string, TickerGroup>;
  invalidPositions: { id: string; reason: string }[];
} {
  const invalidPositions: { id: string; reason: string }[] = [];
  const groups = new Map<string, TickerGroup>();
  for (const p of positions) {
    // The refresh's symbol rule: a position it would not price is not scored either.
    const symbol = normaliseTicker(p.ticker);
    const ticker = symbol.ok ? symbol.ticker : '';
    const shares = decimal(p.shares);
    const cost = decimal(p.costBasis);
    const problem = !symbol.ok
      ? `ticker ${symbol.reason}`
      : !shares || shares.lte(0)
        ? `shares ${echo(p.shares)} is not a positive number`
        : !cost || cost.lt(0)
          ? `costBasis ${echo(p.costBasis)} is not a number ≥ 0`
          : undefined;
    if (problem || !shares || !cost) {
      invalidPositions.push({ id: p.id, reason: problem ?? 'invalid' });
      continue;
    }
    const g = groups.get(ticker) ?? { lots: 0, shares: new Big(0), cost: new Big(0), values: [] };
    g.lots += 1;
    g.shares = g.shares.plus(shares);
    g.cost = g.cost.plus(cost);
    g.values.push(p.marketValue === undefined ? undefined : decimal(p.marketValue));
    groups.set(ticker, g);
  }
  return { groups, invalidPositions };
}

/** By market value, largest first (unknown values last), then ticker. */
function byValueThenTicker(a: Holding, b: Holding): number {
  const va = a.marketValue === undefined ? undefined : new Big(a.marketValue);
  const vb = b.marketValue === undefined ? undefined : new Big(b.marketValue);
  if (va && vb && !va.eq(vb)) return vb.cmp(va);
  if (va && !vb) return -1;
  if (!va && vb) return 1;
  return a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0;
}

function decimal(value: unknown): Big | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    return new Big(value.trim());
  } catch {
    return undefined;
  }
}

function toNumber(value: Big): number {
  const n = Number(value.toFixed(4));
  return Object.is(n, -0) ? 0 : n;
}
