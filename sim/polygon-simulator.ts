import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nyDateOf, nyWallTimeToUtcMs } from '../lambdas/platform/ny-time';
import { answerSplits, barOnBasis, type SimulatedSplit } from './polygon-splits';

export type { SimulatedSplit } from './polygon-splits';

/** The key the simulator accepts when none is configured. */
export const SIMULATOR_API_KEY = 'polygon-simulator-key';

/** Polygon's 429 error text (free plan). */
export const RATE_LIMIT_MESSAGE =
  "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue. https://polygon.io/pricing";

/** Polygon's 403 error text for data outside the plan's timeframe. */
export const NOT_AUTHORIZED_MESSAGE =
  "Your plan doesn't include this data timeframe. Please upgrade your plan at https://polygon.io/pricing";

/** A fault injected into the simulator's responses (`times` = how many requests; forever when absent). */
export type PolygonFault =
  | {
      readonly kind: 'status';
      readonly status: number;
      /** Response body: a string is sent as is (`''` = empty), anything else as JSON. */
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
      readonly times?: number;
    }
  | { readonly kind: 'reset'; readonly times?: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly times?: number }
  | { readonly kind: 'malformed'; readonly times?: number }
  | { readonly kind: 'fraction500'; readonly fraction: number };

/** One request the simulator received. */
export interface SimulatedRequest {
  /** Arrival time on the simulator's clock (`now`), Unix ms. */
  readonly at: number;
  readonly method: string;
  /** Path and query, with any `apiKey` value replaced by `REDACTED`. */
  readonly path: string;
  /** How the request authenticated. */
  readonly auth: 'bearer' | 'query' | 'none';
  /** Status answered; 0 when the socket was destroyed (reset fault). */
  status: number;
  /** The fault applied to this request, if any. */
  fault?: PolygonFault['kind'];
}

/** Counters over every request received so far. */
export interface PolygonSimulatorStats {
  readonly total: number;
  readonly byStatus: Readonly<Record<number, number>>;
  /** Requests that passed the rate limiter (counted against the per-minute budget). */
  readonly admitted: number;
  /** Requests answered 429 by the rate limiter (injected 429 faults excluded). */
  readonly rateLimited: number;
  /** Largest number of admitted requests of one key in any 60-s window. */
  readonly maxAdmittedInWindow: number;
}

/** Options of {@link startPolygonSimulator}; every field is optional. */
export interface PolygonSimulatorOptions {
  /** Accepted API keys. @default [SIMULATOR_API_KEY] */
  readonly apiKeys?: readonly string[];
  /** Number of synthetic symbols in the universe (a real grouped day has about 11,000). @default 300 */
  readonly universeSize?: number;
  /** Extra symbols in the universe. @default a handful of large US caps */
  readonly tickers?: readonly string[];
  /** Symbols that have no data at all (removed from the universe). @default [] */
  readonly unknownTickers?: readonly string[];
  /** Trading-day predicate on `YYYY-MM-DD`; other days have no bars. @default Monday to Friday */
  readonly isTradingDay?: (date: string) => boolean;
  /**
   * Last published session (`YYYY-MM-DD`). @default sessions are published `publishDelayMs`
   * after their 16:00 New York close, on the simulator clock
   */
  readonly publishedThrough?: string;
  /** Delay between a session's close and its publication, in ms. @default 1800000 */
  readonly publishDelayMs?: number;
  /** History window of the plan; older sessions answer 403. @default 2 */
  readonly historyYears?: number;
  /**
   * Range requests reaching past the last published session: `clamp` answers the published
   * part, `forbid` answers 403. @default 'clamp'
   */
  readonly rangeUnpublished?: 'clamp' | 'forbid';
  /** Largest range page; smaller than a result, it makes the simulator paginate. @default 5000 */
  readonly pageSize?: number;
  /** Whether `next_url` carries `apiKey=<the caller's key>`, as real responses may. @default true */
  readonly nextUrlApiKey?: boolean;
  /** Admitted requests per key in any sliding 60-s window; 0 disables the limit. @default 5 */
  readonly requestsPerMinute?: number;
  /** Answer rate-limited requests with an empty body. @default false */
  readonly emptyRateLimitBody?: boolean;
  /** Send `Retry-After` (seconds, simulator clock) with rate-limit answers. @default false */
  readonly rateLimitRetryAfter?: boolean;
  /** Simulator clock, Unix ms; drives rate limiting, publication and request times. @default Date.now */
  readonly now?: () => number;
  /** Random source of the `fraction500` fault. @default a PRNG seeded with 1 */
  readonly random?: () => number;
  /** Fault active from the start. */
  readonly fault?: PolygonFault;
  /**
   * Stock splits (executed and announced): served by the splits endpoints, and applied to the
   * aggregates as Polygon does (`adjusted=true` on the basis of the simulator's today, `false`
   * as traded). @default none
   */
  readonly splits?: readonly SimulatedSplit[];
}

/** A running simulator. */
export interface PolygonSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (use as `POLYGON_BASE_URL`). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: SimulatedRequest[];
  /** Replaces the active fault (`undefined` clears it). */
  setFault(fault: PolygonFault | undefined): void;
  /** Replaces the splits of the universe (served and applied from the next request on). */
  setSplits(splits: readonly SimulatedSplit[]): void;
  /** Counters over {@link PolygonSimulator.requests}. */
  stats(): PolygonSimulatorStats;
  /** Stops listening and destroys open connections. */
  close(): Promise<void>;
}

/** One synthetic daily bar in Polygon's wire format (without `T` and `t`). */
export interface SyntheticAgg {
  readonly v: number;
  readonly vw: number;
  readonly o: number;
  readonly c: number;
  readonly h: number;
  readonly l: number;
  readonly n: number;
}

const DEFAULT_TICKERS = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'BRK.B',
  'JPM',
  'V',
  // The track record's benchmark (BENCHMARK_TICKER), refreshed every night with the held tickers.
  'SPY',
];
const WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;
const ANCHOR_UTC = Date.UTC(1990, 0, 1);
const SPAN_DAYS = 1 << 15;
// Levels of the midpoint construction wider than this many days are damped so that prices stay
// within about e^±1 of the ticker's base price over decades while moving like a walk day to day.
const WALK_CORRELATION_DAYS = 256;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const SALT = {
  walk: 1,
  open: 11,
  high: 21,
  low: 31,
  volume: 41,
  trades: 51,
  base: 61,
  sigma: 71,
  baseVolume: 81,
  tradeSize: 91,
};

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function mix(a: number, b: number): number {
  let h = (a ^ Math.imul((b + 0x9e3779b9) | 0, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function uniform(seed: number, key: number, salt: number): number {
  return (mix(mix(seed, key), salt) + 0.5) / 4294967296;
}

function gauss(seed: number, key: number, salt: number): number {
  const u1 = uniform(seed, key, salt);
  const u2 = uniform(seed, key, salt + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Exact random access into a seeded Gaussian walk (midpoint displacement, pinned to 0 at both ends). */
function walkAt(seed: number, sigma: number, index: number): number {
  let lo = 0;
  let hi = SPAN_DAYS;
  let wLo = 0;
  let wHi = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const width = Math.min(hi - lo, WALK_CORRELATION_DAYS);
    const wMid = (wLo + wHi) / 2 + sigma * Math.sqrt(width / 4) * gauss(seed, mid, SALT.walk);
    if (index < mid) {
      hi = mid;
      wHi = wMid;
    } else {
      lo = mid;
      wLo = wMid;
    }
  }
  return index === lo ? wLo : wHi;
}

function dayIndex(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Math.round((Date.UTC(y, m - 1, d) - ANCHOR_UTC) / DAY_MS);
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

function isValidDate(date: string): boolean {
  if (!DATE_RE.test(date)) return false;
  const [y, m, d] = date.split('-').map(Number);
  const ms = Date.UTC(y, m - 1, d);
  return new Date(ms).toISOString().slice(0, 10) === date;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** Monday to Friday, ignoring holidays. */
export function isWeekday(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number);
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/** The simulator's synthetic symbols (`ZAAA`, `ZAAB`, …), deterministic for a given count. */
export function syntheticTickers(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let n = i;
    let letters = '';
    do {
      letters = String.fromCharCode(65 + (n % 26)) + letters;
      n = Math.floor(n / 26);
    } while (n > 0);
    out.push(`Z${letters.padStart(3, 'A')}`);
  }
  return out;
}

/**
 * The deterministic synthetic bar of a ticker on a date (seeded by the ticker name): the same
 * values on the grouped and the range endpoint. Trading days are not checked here.
 */
export function syntheticAgg(ticker: string, date: string): SyntheticAgg {
  const seed = hashString(ticker);
  const i = dayIndex(date);
  const basePrice = Math.exp(Math.log(5) + uniform(seed, -1, SALT.base) * Math.log(100));
  const sigma = 0.01 + 0.02 * uniform(seed, -1, SALT.sigma);
  const baseVolume = Math.exp(Math.log(1e5) + uniform(seed, -1, SALT.baseVolume) * Math.log(500));
  const rawClose = basePrice * Math.exp(walkAt(seed, sigma, i));
  const prevClose = basePrice * Math.exp(walkAt(seed, sigma, i - 1));
  const decimals = rawClose >= 1 ? 2 : 4;
  const o = round(prevClose * Math.exp(0.3 * sigma * gauss(seed, i, SALT.open)), decimals);
  const c = round(rawClose, decimals);
  const h = Math.max(
    round(Math.max(o, c) * (1 + 0.5 * sigma * Math.abs(gauss(seed, i, SALT.high))), decimals),
    o,
    c,
  );
  const l = Math.min(
    round(
      Math.min(o, c) * (1 - Math.min(0.5, 0.5 * sigma * Math.abs(gauss(seed, i, SALT.low)))),
      decimals,
    ),
    o,
    c,
  );
  const v = Math.max(100, Math.round(baseVolume * Math.exp(0.35 * gauss(seed, i, SALT.volume))));
  const tradeSize = 50 + 150 * uniform(seed, -1, SALT.tradeSize);
  return {
    v,
    vw: round((o + h + l + c) / 4, 4),
    o,
    c,
    h,
    l,
    n: Math.max(1, Math.round((v / tradeSize) * (0.8 + 0.4 * uniform(seed, i, SALT.trades)))),
  };
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    return mix(state, 0) / 4294967296;
  };
}

interface Route {
  readonly kind: 'grouped' | 'range' | 'splits' | 'legacy-splits';
  readonly date?: string;
  readonly ticker?: string;
  readonly multiplier?: string;
  readonly timespan?: string;
  readonly from?: string;
  readonly to?: string;
}

function matchRoute(pathname: string): Route | undefined {
  if (/^\/stocks\/v1\/splits\/?$/.test(pathname)) return { kind: 'splits' };
  if (/^\/v3\/reference\/splits\/?$/.test(pathname)) return { kind: 'legacy-splits' };
  const grouped = /^\/v2\/aggs\/grouped\/locale\/us\/market\/stocks\/([^/]+)\/?$/.exec(pathname);
  if (grouped) return { kind: 'grouped', date: decodeURIComponent(grouped[1]) };
  const range = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(
    pathname,
  );
  if (range) {
    const [, ticker, multiplier, timespan, from, to] = range.map((p) => decodeURIComponent(p));
    return { kind: 'range', ticker, multiplier, timespan, from, to };
  }
  return undefined;
}

function parseRangeBound(value: string): string | undefined {
  if (/^\d{10,14}$/.test(value)) return nyDateOf(Number(value));
  return isValidDate(value) ? value : undefined;
}

/**
 * Starts a local Polygon.io simulator on 127.0.0.1 (ephemeral port) serving the grouped-daily
 * and daily-range aggregate endpoints and both splits endpoints with deterministic synthetic prices, Polygon's auth,
 * rate-limit, plan-window and empty-result behaviour, and injectable faults.
 */
export async function startPolygonSimulator(
  opts: PolygonSimulatorOptions = {},
): Promise<PolygonSimulator> {
  const now = opts.now ?? Date.now;
  const apiKeys = new Set(opts.apiKeys ?? [SIMULATOR_API_KEY]);
  const isTradingDay = opts.isTradingDay ?? isWeekday;
  const unknown = new Set(opts.unknownTickers ?? []);
  const universe = [
    ...new Set([
      ...syntheticTickers(opts.universeSize ?? 300),
      ...(opts.tickers ?? DEFAULT_TICKERS),
    ]),
  ].filter((t) => !unknown.has(t));
  const universeSet = new Set(universe);
  const pageSize = Math.max(1, opts.pageSize ?? 5000);
  const requestsPerMinute = opts.requestsPerMinute ?? 5;
  const publishDelayMs = opts.publishDelayMs ?? 30 * 60_000;
  const historyYears = opts.historyYears ?? 2;
  const random = opts.random ?? seededRandom(1);
  let splits = opts.splits ?? [];
  /** A bar as served: adjusted to the basis of the simulator's today, or as traded. */
  const barOf = (ticker: string, date: string, adjusted: boolean) =>
    barOnBasis(
      splits,
      ticker,
      date,
      syntheticAgg(ticker, date),
      adjusted ? nyDateOf(now()) : undefined,
    );
  const requests: SimulatedRequest[] = [];
  const windowByKey = new Map<string, number[]>();
  const admittedByKey = new Map<string, number[]>();
  let rateLimited = 0;
  const timers = new Set<NodeJS.Timeout>();
  let fault = opts.fault;
  let requestSeq = 0;
  let baseUrl = '';

  const requestId = (): string =>
    `sim${(++requestSeq).toString(16).padStart(8, '0')}${randomUUID().replace(/-/g, '').slice(0, 21)}`;

  const isPublished = (date: string): boolean =>
    opts.publishedThrough !== undefined
      ? date <= opts.publishedThrough
      : nyWallTimeToUtcMs(date, 16) + publishDelayMs <= now();

  const earliestAvailable = (): string => {
    const today = nyDateOf(now());
    const [y, m, d] = today.split('-').map(Number);
    const shifted = new Date(Date.UTC(y - historyYears, m - 1, d));
    if (shifted.getUTCMonth() !== m - 1) shifted.setUTCDate(0);
    return shifted.toISOString().slice(0, 10);
  };

  const lastPublishedOnOrBefore = (date: string, floor: string): string | undefined => {
    for (let d = date; d >= floor; d = addDays(d, -1)) if (isPublished(d)) return d;
    return undefined;
  };

  const consumeFault = (): PolygonFault | undefined => {
    const f = fault;
    if (!f) return undefined;
    if (f.kind === 'fraction500') return random() < f.fraction ? f : undefined;
    if (f.times !== undefined) {
      const left = f.times - 1;
      fault = left > 0 ? { ...f, times: left } : undefined;
    }
    return f;
  };

  const send = (
    res: ServerResponse,
    record: SimulatedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    record.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-polygon-simulator': 'true',
      ...headers,
    });
    res.end(text);
  };

  const handleGrouped = (
    route: Route,
    url: URL,
    res: ServerResponse,
    record: SimulatedRequest,
  ): void => {
    const date = route.date ?? '';
    const request_id = requestId();
    const adjusted = url.searchParams.get('adjusted') !== 'false';
    if (!isValidDate(date)) {
      send(res, record, 400, {
        status: 'ERROR',
        request_id,
        error: `Could not parse the date '${date}'; expected YYYY-MM-DD.`,
      });
      return;
    }
    if (!isPublished(date) || date < earliestAvailable()) {
      send(res, record, 403, {
        status: 'NOT_AUTHORIZED',
        request_id,
        message: NOT_AUTHORIZED_MESSAGE,
      });
      return;
    }
    if (!isTradingDay(date)) {
      send(res, record, 200, {
        queryCount: 0,
        resultsCount: 0,
        adjusted,
        status: 'OK',
        request_id,
      });
      return;
    }
    const t = nyWallTimeToUtcMs(date, 16);
    const results = universe.map((T) => ({ T, ...barOf(T, date, adjusted), t }));
    send(res, record, 200, {
      queryCount: results.length,
      resultsCount: results.length,
      adjusted,
      results,
      status: 'OK',
      request_id,
      count: results.length,
    });
  };

  const handleRange = (
    route: Route,
    url: URL,
    res: ServerResponse,
    record: SimulatedRequest,
    key: string,
  ): void => {
    const request_id = requestId();
    const ticker = route.ticker ?? '';
    const adjusted = url.searchParams.get('adjusted') !== 'false';
    if (route.multiplier !== '1' || route.timespan !== 'day') {
      send(res, record, 400, {
        status: 'ERROR',
        request_id,
        error: 'The simulator serves only range/1/day.',
      });
      return;
    }
    const from = parseRangeBound(route.from ?? '');
    const to = parseRangeBound(route.to ?? '');
    if (!from || !to) {
      send(res, record, 400, {
        status: 'ERROR',
        request_id,
        error: 'Could not parse the from/to dates; expected YYYY-MM-DD or Unix ms.',
      });
      return;
    }
    const earliest = earliestAvailable();
    const lastPublished = lastPublishedOnOrBefore(to, from);
    if (from < earliest || (opts.rangeUnpublished === 'forbid' && lastPublished !== to)) {
      send(res, record, 403, {
        status: 'NOT_AUTHORIZED',
        request_id,
        message: NOT_AUTHORIZED_MESSAGE,
      });
      return;
    }
    const sessions: string[] = [];
    if (universeSet.has(ticker) && lastPublished !== undefined) {
      for (let d = from; d <= lastPublished; d = addDays(d, 1))
        if (isTradingDay(d)) sessions.push(d);
    }
    if (url.searchParams.get('sort') === 'desc') sessions.reverse();
    const limit = Math.min(
      50_000,
      Math.max(1, Number(url.searchParams.get('limit') ?? 5000) || 5000),
    );
    const perPage = Math.min(limit, pageSize);
    const offset = decodeCursor(url.searchParams.get('cursor'));
    const page = sessions.slice(offset, offset + perPage);
    if (page.length === 0) {
      send(res, record, 200, {
        ticker,
        queryCount: 0,
        resultsCount: 0,
        adjusted,
        status: 'OK',
        request_id,
      });
      return;
    }
    const results = page.map((d) => ({
      ...barOf(ticker, d, adjusted),
      t: nyWallTimeToUtcMs(d, 0),
    }));
    const body: Record<string, unknown> = {
      ticker,
      queryCount: results.length,
      resultsCount: results.length,
      adjusted,
      results,
      status: 'OK',
      request_id,
    };
    if (offset + perPage < sessions.length) {
      const next = new URL(`${baseUrl}${url.pathname}`);
      next.searchParams.set(
        'cursor',
        Buffer.from(JSON.stringify({ offset: offset + perPage })).toString('base64url'),
      );
      for (const name of ['adjusted', 'sort', 'limit']) {
        const value = url.searchParams.get(name);
        if (value !== null) next.searchParams.set(name, value);
      }
      if (opts.nextUrlApiKey ?? true) next.searchParams.set('apiKey', key);
      body.next_url = next.href;
    }
    send(res, record, 200, body);
  };

  const handleSplits = (
    route: Route,
    url: URL,
    res: ServerResponse,
    record: SimulatedRequest,
    key: string,
  ): void => {
    const answer = answerSplits(splits, {
      url,
      legacy: route.kind === 'legacy-splits',
      today: nyDateOf(now()),
      requestId: requestId(),
      pageSize,
      nextUrl: (cursor) => {
        const next = new URL(`${baseUrl}${url.pathname}${url.search}`);
        next.searchParams.delete('apiKey');
        next.searchParams.set('cursor', cursor);
        if (opts.nextUrlApiKey ?? true) next.searchParams.set('apiKey', key);
        return next.href;
      },
    });
    send(res, record, answer.status, answer.body);
  };

  const admit = (key: string, at: number): { ok: true } | { ok: false; retryAfterS: number } => {
    const recent = (windowByKey.get(key) ?? []).filter((x) => x > at - WINDOW_MS);
    windowByKey.set(key, recent);
    if (requestsPerMinute > 0 && recent.length >= requestsPerMinute) {
      rateLimited++;
      return {
        ok: false,
        retryAfterS: Math.max(1, Math.ceil((recent[0] + WINDOW_MS - at) / 1000)),
      };
    }
    recent.push(at);
    const history = admittedByKey.get(key) ?? [];
    history.push(at);
    admittedByKey.set(key, history);
    return { ok: true };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = now();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const queryKey = url.searchParams.get('apiKey') ?? undefined;
    const key = bearer ?? queryKey;
    const shown = new URL(url.href);
    if (shown.searchParams.has('apiKey')) shown.searchParams.set('apiKey', 'REDACTED');
    const record: SimulatedRequest = {
      at,
      method: req.method ?? 'GET',
      path: shown.pathname + shown.search,
      auth: bearer ? 'bearer' : queryKey ? 'query' : 'none',
      status: 0,
    };
    requests.push(record);

    const route = matchRoute(url.pathname);
    if (!route || req.method !== 'GET') {
      send(res, record, 404, {
        status: 'NOT_FOUND',
        request_id: requestId(),
        message: 'Not found',
      });
      return;
    }
    if (!key || !apiKeys.has(key)) {
      const error = key ? 'Unknown API Key' : 'API Key was not provided';
      send(res, record, 401, { status: 'ERROR', request_id: requestId(), error });
      return;
    }
    const admission = admit(key, at);
    if (!admission.ok) {
      const headers: Record<string, string> = opts.rateLimitRetryAfter
        ? { 'retry-after': String(admission.retryAfterS) }
        : {};
      const body = opts.emptyRateLimitBody
        ? ''
        : { status: 'ERROR', request_id: requestId(), error: RATE_LIMIT_MESSAGE };
      send(res, record, 429, body, headers);
      return;
    }

    const applied = consumeFault();
    if (applied) record.fault = applied.kind;
    if (applied?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (applied?.kind === 'status') {
      const body = applied.body ?? {
        status: 'ERROR',
        request_id: requestId(),
        error: `Simulated HTTP ${applied.status}`,
      };
      send(res, record, applied.status, body, { ...applied.headers });
      return;
    }
    if (applied?.kind === 'fraction500') {
      send(res, record, 500, {
        status: 'ERROR',
        request_id: requestId(),
        error: 'Internal Server Error',
      });
      return;
    }
    if (applied?.kind === 'malformed') {
      send(res, record, 200, '{"status":"OK","request_id":"truncated","results":[{"o":1');
      return;
    }
    if (applied?.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, applied.ms);
        timers.add(timer);
      });
      if (res.destroyed || req.socket.destroyed) return;
    }

    if (route.kind === 'grouped') handleGrouped(route, url, res, record);
    else if (route.kind === 'range') handleRange(route, url, res, record, key);
    else handleSplits(route, url, res, record, key);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            status: 'ERROR',
            error: err instanceof Error ? err.message : 'simulator failure',
          }),
        );
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    setFault(next) {
      fault = next;
    },
    setSplits(next) {
      splits = next;
    },
    stats() {
      const byStatus: Record<number, number> = {};
      for (const r of requests) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      const histories = [...admittedByKey.values()];
      return {
        total: requests.length,
        byStatus,
        admitted: histories.reduce((sum, h) => sum + h.length, 0),
        rateLimited,
        maxAdmittedInWindow: Math.max(0, ...histories.map((h) => maxInWindow(h, WINDOW_MS))),
      };
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function decodeCursor(cursor: string | null): number {
  if (!cursor) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      offset?: unknown;
    };
    return typeof parsed.offset === 'number' &&
      Number.isInteger(parsed.offset) &&
      parsed.offset >= 0
      ? parsed.offset
      : 0;
  } catch {
    return 0;
  }
}

/**
 * A simulator clock that runs `scale` times faster than real time and follows `Date.now()`:
 * it reads `Date.now()` plus (scale − 1) × the real time elapsed since it was made, measured on
 * the monotonic `performance.now()`. So when a test fakes `Date` (a holiday night, say), the
 * simulator's date is the faked one, and no test depends on the real date it runs on.
 */
export interface CompressedClock {
  readonly scale: number;
  readonly now: () => number;
}

export function compressedClock(scale: number): CompressedClock {
  const realStart = performance.now();
  return { scale, now: () => Date.now() + (performance.now() - realStart) * (scale - 1) };
}

/**
 * Real milliseconds until no request the simulator received lies within the last `windowMs` of
 * real time, for a simulator on a {@link CompressedClock} (as time-compressed tests run it);
 * 0 when the window is already free.
 */
export function msUntilQuiet(
  sim: Pick<PolygonSimulator, 'requests'>,
  clock: Pick<CompressedClock, 'now' | 'scale'> & { readonly windowMs: number },
): number {
  const last = sim.requests.at(-1)?.at;
  if (last === undefined) return 0;
  const realSinceLast = (clock.now() - last) / clock.scale;
  return Math.max(0, Math.ceil(clock.windowMs + 100 - realSinceLast));
}

/** Largest number of instants (Unix ms) falling in any window `(t - windowMs, t]`. */
export function maxInWindow(instants: readonly number[], windowMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start] <= sorted[end] - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
