/**
 * Stock splits in the Polygon simulator: the split list served by `GET /stocks/v1/splits` and
 * the deprecated `GET /v3/reference/splits`, and the price basis of the aggregate endpoints.
 *
 * The synthetic walk of a ticker is its price on the basis after every configured split. As
 * traded (`adjusted=false`), a session before a split's execution date is on the old basis: its
 * prices are multiplied by r = split_to / split_from of every split executed after it (volume
 * divided). Adjusted (`adjusted=true`, the default), Polygon puts every bar on the basis of the
 * day of the request: the traded bar divided by r of every split executed after the session and
 * on or before the simulator's "today" (Polygon applies a split overnight, before its execution
 * date's pre-market). A split announced for a later date changes nothing yet.
 */
import type { SyntheticAgg } from './polygon-simulator';

/** One split of the simulated universe. */
export interface SimulatedSplit {
  readonly ticker: string;
  /** Execution date, `YYYY-MM-DD`: the first session traded on the new basis. */
  readonly executionDate: string;
  readonly splitFrom: number;
  readonly splitTo: number;
}

/** A daily bar's price and volume fields (the simulator's synthetic bar). */
export type BarValues = SyntheticAgg;

const ratio = (s: SimulatedSplit): number => s.splitTo / s.splitFrom;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function scaled(bar: BarValues, factor: number, roundPrices: boolean): BarValues {
  if (factor === 1) return bar;
  const price = (x: number) =>
    roundPrices ? round(x * factor, x * factor >= 1 ? 2 : 4) : x * factor;
  return {
    ...bar,
    o: price(bar.o),
    c: price(bar.c),
    h: price(bar.h),
    l: price(bar.l),
    vw: price(bar.vw),
    v: Math.round(bar.v / factor),
  };
}

/**
 * A ticker's bar on `date` as traded (`today` undefined) or adjusted to the basis of `today`.
 * `base` is the synthetic bar (the basis after every split).
 */
export function barOnBasis(
  splits: readonly SimulatedSplit[],
  ticker: string,
  date: string,
  base: BarValues,
  today?: string,
): BarValues {
  const later = splits.filter((s) => s.ticker === ticker && s.executionDate > date);
  if (later.length === 0) return base;
  const tradedFactor = later.reduce((f, s) => f * ratio(s), 1);
  const traded = scaled(base, tradedFactor, true);
  if (today === undefined) return traded;
  const applied = later.filter((s) => s.executionDate <= today);
  const adjustFactor = applied.reduce((f, s) => f * ratio(s), 1);
  return scaled(traded, 1 / adjustFactor, false);
}

/** The query of a splits request, read into filters (`undefined` bounds are open). */
interface SplitQuery {
  readonly tickers?: ReadonlySet<string>;
  readonly tickerRange: Bound;
  readonly dateRange: Bound;
  readonly reverse?: boolean;
  readonly adjustmentType?: string;
  readonly desc: boolean;
  readonly limit: number;
}

interface Bound {
  readonly eq?: string;
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function boundOf(params: URLSearchParams, name: string): Bound {
  const get = (suffix: string) => params.get(suffix ? `${name}.${suffix}` : name) ?? undefined;
  return { eq: get(''), gt: get('gt'), gte: get('gte'), lt: get('lt'), lte: get('lte') };
}

function within(value: string, b: Bound): boolean {
  return (
    (b.eq === undefined || value === b.eq) &&
    (b.gt === undefined || value > b.gt) &&
    (b.gte === undefined || value >= b.gte) &&
    (b.lt === undefined || value < b.lt) &&
    (b.lte === undefined || value <= b.lte)
  );
}

/** Reads a splits query; a string is the 400 error text. */
function readQuery(params: URLSearchParams, legacy: boolean): SplitQuery | string {
  const dateRange = boundOf(params, 'execution_date');
  const { eq, gt, gte, lt, lte } = dateRange;
  for (const v of [eq, gt, gte, lt, lte])
    if (v !== undefined && !DATE_RE.test(v))
      return `Could not parse execution_date '${v}'; expected YYYY-MM-DD.`;
  const maxLimit = legacy ? 1000 : 5000;
  const limitText = params.get('limit');
  const limit = limitText === null ? (legacy ? 10 : 100) : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    return `limit must be an integer from 1 to ${maxLimit}.`;
  const anyOf = params.get('ticker.any_of');
  const sort = params.get('sort') ?? '';
  const order = params.get('order') ?? '';
  const reverseText = params.get('reverse_split');
  return {
    tickers: anyOf === null ? undefined : new Set(anyOf.split(',').filter(Boolean)),
    tickerRange: boundOf(params, 'ticker'),
    dateRange,
    reverse: legacy && reverseText !== null ? reverseText === 'true' : undefined,
    adjustmentType: legacy ? undefined : (params.get('adjustment_type') ?? undefined),
    desc: legacy ? order !== 'asc' : sort.endsWith('.desc') || sort === 'desc',
    limit,
  };
}

function adjustmentType(s: SimulatedSplit): string {
  return s.splitFrom > s.splitTo ? 'reverse_split' : 'forward_split';
}

/**
 * The factor that puts a price of a session before the split on today's basis: the product of
 * split_from / split_to of this split and of every later split of the ticker executed by today.
 */
function historicalFactor(
  splits: readonly SimulatedSplit[],
  split: SimulatedSplit,
  today: string,
): number {
  return splits
    .filter(
      (s) =>
        s.ticker === split.ticker &&
        s.executionDate >= split.executionDate &&
        s.executionDate <= today,
    )
    .reduce((f, s) => f / ratio(s), 1);
}

function matches(s: SimulatedSplit, q: SplitQuery): boolean {
  return (
    (q.tickers === undefined || q.tickers.has(s.ticker)) &&
    within(s.ticker, q.tickerRange) &&
    within(s.executionDate, q.dateRange) &&
    (q.reverse === undefined || s.splitFrom > s.splitTo === q.reverse) &&
    (q.adjustmentType === undefined || adjustmentType(s) === q.adjustmentType)
  );
}

function resultOf(
  s: SimulatedSplit,
  i: number,
  splits: readonly SimulatedSplit[],
  today: string,
  legacy: boolean,
): Record<string, unknown> {
  const common = {
    id: `sim-split-${i}`,
    ticker: s.ticker,
    execution_date: s.executionDate,
    split_from: s.splitFrom,
    split_to: s.splitTo,
  };
  if (legacy) return common;
  return {
    ...common,
    adjustment_type: adjustmentType(s),
    historical_adjustment_factor: s.executionDate <= today ? historicalFactor(splits, s, today) : 1,
  };
}

/** A splits page: the status and the body to send. */
export interface SplitsAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * Answers a splits request (either endpoint): filters, sorts by execution date (ascending by
 * default on the new endpoint, descending on the legacy one, as Polygon documents), pages with
 * `next_url` (an offset cursor) and lists announced future splits too, as the real API does.
 */
export function answerSplits(
  splits: readonly SimulatedSplit[],
  req: {
    readonly url: URL;
    readonly legacy: boolean;
    readonly today: string;
    readonly requestId: string;
    /** Largest page the simulator serves, whatever the limit asked. */
    readonly pageSize: number;
    readonly nextUrl: (cursor: string) => string;
  },
): SplitsAnswer {
  const query = readQuery(req.url.searchParams, req.legacy);
  if (typeof query === 'string')
    return { status: 400, body: { status: 'ERROR', request_id: req.requestId, error: query } };
  const indexed = splits.map((s, i) => ({ s, i })).filter(({ s }) => matches(s, query));
  indexed.sort((a, b) =>
    a.s.executionDate === b.s.executionDate
      ? a.i - b.i
      : (a.s.executionDate < b.s.executionDate ? -1 : 1) * (query.desc ? -1 : 1),
  );
  const offset = cursorOffset(req.url.searchParams.get('cursor'));
  const perPage = Math.min(query.limit, req.pageSize);
  const page = indexed.slice(offset, offset + perPage);
  const body: Record<string, unknown> = {
    status: 'OK',
    request_id: req.requestId,
    results: page.map(({ s, i }) => resultOf(s, i, splits, req.today, req.legacy)),
  };
  if (offset + perPage < indexed.length)
    body.next_url = req.nextUrl(
      Buffer.from(JSON.stringify({ offset: offset + perPage })).toString('base64url'),
    );
  return { status: 200, body };
}

function cursorOffset(cursor: string | null): number {
  if (!cursor) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      offset?: unknown;
    };
    const o = parsed.offset;
    return typeof o === 'number' && Number.isInteger(o) && o >= 0 ? o : 0;
  } catch {
    return 0;
  }
}
