import type { Dispatcher } from 'undici';
import * as z from '../../platform/zod';
import { redactor, sendOnce, sleepMs, TransportFailure, withRetries } from '../../platform/http';
import { clip } from '../../platform/text';
import {
  errorFor,
  isRetriedInProcess,
  networkError,
  parseJsonBody,
  polygonError,
  PolygonError,
} from './polygon-error';
import {
  aggSchema,
  buildUrl,
  followUrl,
  parseEnvelope,
  toBar,
  type Target,
} from './polygon-responses';
import type { BarLike } from '../domain/ticker-rows';
import { fetchSplits, type StockSplit } from './polygon-splits';

// The error type, under the client's import path as before.
export { PolygonError, type PolygonErrorKind } from './polygon-error';
export type { StockSplit } from './polygon-splits';

/**
 * One daily bar (one US equity session) of one ticker, as returned by Polygon: the fields a
 * `ticker-data` row is made of ({@link BarLike}), plus Polygon's raw timestamp.
 */
export interface DailyBar extends BarLike {
  /**
   * Polygon's raw bar timestamp (Unix ms). Grouped bars carry the session end (16:00 New York),
   * range bars the session start (00:00 New York); use `session` to identify the bar.
   */
  readonly t: number;
}

/** The market-data operations this adapter offers (one HTTP call per page, retries aside). */
export interface PolygonClient {
  /**
   * Every US stock's daily bar for one session
   * (`GET /v2/aggs/grouped/locale/us/market/stocks/{date}?adjusted=true`).
   * Resolves to `[]` when the session has no data (weekend, holiday).
   * @param date session date, `YYYY-MM-DD` (New York)
   */
  groupedDaily(date: string): Promise<DailyBar[]>;
  /**
   * One ticker's daily bars from `from` to `to` inclusive, ascending, following `next_url`
   * pages. Resolves to `[]` when Polygon has no data for the ticker in that range.
   * @param ticker Polygon symbol, e.g. `NVDA`
   * @param from first session date, `YYYY-MM-DD`
   * @param to last session date, `YYYY-MM-DD`
   */
  dailyRange(ticker: string, from: string, to: string): Promise<DailyBar[]>;
  /**
   * Every stock split (any ticker) executed from `from` to `to` inclusive, ascending by
   * execution date, following `next_url` pages (`GET /stocks/v1/splits`).
   */
  splits(from: string, to: string): Promise<StockSplit[]>;
}

/** The logging surface the client needs; a Powertools `Logger` satisfies it. */
export interface PolygonLogger {
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** What the client reports after every HTTP attempt (for metrics). */
export interface PolygonAttemptInfo {
  /** Which operation the attempt belongs to. */
  readonly endpoint: 'grouped' | 'range' | 'splits';
  /** Request path without the query string (so no key or cursor can leak into metrics). */
  readonly path: string;
  /** HTTP status, or 0 when no response arrived (timeout, reset, refused). */
  readonly status: number;
  /** Wall-clock duration of the attempt, headers and body, in ms. */
  readonly durationMs: number;
  /** 1 for the first attempt of a request, 2 for its first retry, … */
  readonly attempt: number;
}

/** Options of {@link createPolygonClient}. */
export interface PolygonClientOptions {
  /** Origin (and optional path prefix) of the API, e.g. `https://api.polygon.io` or a simulator URL. */
  readonly baseUrl: string;
  /** Resolves the API key; called before each attempt, so the caller should cache it. */
  readonly apiKey: () => Promise<string>;
  /** undici dispatcher (tests pass a `MockAgent`). @default undici's global dispatcher */
  readonly dispatcher?: Dispatcher;
  /** Per-attempt timeout covering headers and body, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Attempts per request (the first one included). @default 4 */
  readonly maxAttempts?: number;
  /** Full-jitter backoff base, in ms. @default 500 */
  readonly backoffBaseMs?: number;
  /** Full-jitter backoff cap, in ms. @default 20000 */
  readonly backoffCapMs?: number;
  /**
   * Longest `Retry-After` the client waits for; a longer one ends the request with the 429
   * error so that the caller can reschedule the work. @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /** Time left in the Lambda invocation, in ms (`context.getRemainingTimeInMillis`). */
  readonly remainingMs?: () => number;
  /**
   * Time kept free before the invocation deadline, in ms: no attempt is started, and no retry
   * waited for, unless it can finish this long before the deadline. @default 2000
   */
  readonly remainingMarginMs?: number;
  /**
   * Called before every HTTP attempt, retries and pages included, with the key already resolved
   * (so a slow secret fetch happens before, not after, e.g. a permit of the key's request budget
   * is taken). An error it throws is propagated unchanged.
   */
  readonly beforeAttempt?: (apiKey: string) => Promise<void>;
  /** Called after every HTTP attempt; errors it throws are logged and ignored. */
  readonly onResponse?: (info: PolygonAttemptInfo) => void;
  /** Uniform random number in [0, 1) for the backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** Waits between attempts. @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Clock used to read `Retry-After` HTTP dates, Unix ms. @default Date.now */
  readonly now?: () => number;
  /** Receives retry warnings and per-attempt debug lines (never a key, a query or a body). */
  readonly logger?: PolygonLogger;
  /** Upper bound on `next_url` pages per range request. @default 50 */
  readonly maxPages?: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const KEY_IN_TEXT_RE = /(api[-_]?key=)[^&\s"']+/gi;

type Endpoint = PolygonAttemptInfo['endpoint'];

/** What is scrubbed from Polygon text besides the key itself: an `apiKey=…` query parameter. */
const POLYGON_REDACTION = {
  placeholder: '[REDACTED]',
  patterns: [{ re: KEY_IN_TEXT_RE, with: '$1[REDACTED]' }],
};

type GetJson = (url: URL, endpoint: Endpoint) => Promise<unknown>;

/**
 * Creates a Polygon REST client. The key travels only in `Authorization: Bearer`; `apiKey`
 * query parameters in `next_url` are dropped; keys are scrubbed from every error message.
 */
export function createPolygonClient(opts: PolygonClientOptions): PolygonClient {
  const base = new URL(opts.baseUrl);
  const target: Target = { base, basePath: base.pathname.replace(/\/+$/, '') };
  const getJson = jsonGetter(opts);
  const maxPages = opts.maxPages ?? 50;
  return {
    groupedDaily: (date) => fetchGrouped(target, getJson, date, opts.logger),
    dailyRange: (ticker, from, to) =>
      fetchRange({ target, getJson, maxPages }, { ticker, from, to }),
    splits: (from, to) => fetchSplits({ target, getJson, maxPages }, from, to),
  };
}

/** GETs a JSON body with the shared transport: the retries, deadlines and hooks of the options. */
function jsonGetter(opts: PolygonClientOptions): GetJson {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const marginMs = opts.remainingMarginMs ?? 2_000;
  const { remainingMs, logger, beforeAttempt: before } = opts;
  const attemptOnce = attempter(opts);
  return (url, endpoint) =>
    withRetries<unknown, PolygonError>(
      {
        maxAttempts: Math.max(1, opts.maxAttempts ?? 4),
        backoffBaseMs: opts.backoffBaseMs ?? 500,
        backoffCapMs: opts.backoffCapMs ?? 20_000,
        round: Math.floor,
        random: opts.random ?? Math.random,
        sleep: opts.sleep ?? sleepMs,
        timeoutMs,
        timeLeftMs: remainingMs && (() => remainingMs() - marginMs),
        // A retry is waited for only if a whole attempt still fits after the wait.
        retryNeedsMs: timeoutMs,
        maxRetryAfterMs: opts.maxRetryAfterMs ?? 60_000,
        isRetried: isRetriedInProcess,
        noTimeLeft: () =>
          polygonError(
            'PolygonNetworkError',
            `Polygon GET ${url.pathname} not sent: the invocation has no time left`,
          ),
        beforeAttempt: before && (async () => before(await opts.apiKey())),
        onRetry: (err, attempt, delayMs) =>
          logger?.warn('Polygon request failed; retrying', {
            ...retryFields(url, err, attempt),
            delayMs,
          }),
        onNoTimeToRetry: (err, attempt) =>
          logger?.warn(
            'Polygon retry skipped: not enough invocation time left',
            retryFields(url, err, attempt),
          ),
      },
      (attempt, attemptTimeoutMs) => attemptOnce(url, endpoint, attempt, attemptTimeoutMs),
    );
}

const retryFields = (url: URL, err: PolygonError, attempt: number) => ({
  path: url.pathname,
  status: err.status,
  error: err.name,
  attempt,
});

/** One HTTP attempt: resolves the key, sends, maps the outcome, reports the attempt. */
function attempter(opts: PolygonClientOptions) {
  const now = opts.now ?? Date.now;
  const report = reporter(opts);
  return async (url: URL, endpoint: Endpoint, attempt: number, timeoutMs: number) => {
    const key = await opts.apiKey();
    const redact = redactor(key, POLYGON_REDACTION);
    const what = `Polygon GET ${url.pathname}`;
    const started = performance.now();
    let status = 0;
    try {
      const res = await sendOnce(
        {
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
        },
        { dispatcher: opts.dispatcher, timeoutMs },
      );
      status = res.status;
      if (status < 200 || status >= 300) throw errorFor(res, what, redact, now);
      return parseJsonBody(res.text, what, status);
    } catch (err) {
      if (!(err instanceof TransportFailure)) throw err;
      status = err.status ?? 0;
      throw networkError(err, what, key, redact);
    } finally {
      const durationMs = Math.round(performance.now() - started);
      report({ endpoint, path: url.pathname, status, durationMs, attempt });
    }
  };
}

/** Logs every attempt at debug level and hands it to `onResponse` (whose errors are logged). */
function reporter(opts: PolygonClientOptions): (info: PolygonAttemptInfo) => void {
  const logger = opts.logger;
  return (info) => {
    logger?.debug('Polygon response', { ...info });
    if (!opts.onResponse) return;
    try {
      opts.onResponse(info);
    } catch (err) {
      logger?.warn('Polygon onResponse hook failed', {
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  };
}

async function fetchGrouped(
  target: Target,
  getJson: GetJson,
  date: string,
  logger: PolygonLogger | undefined,
): Promise<DailyBar[]> {
  assertDate(date, 'date');
  const url = buildUrl(target, `/v2/aggs/grouped/locale/us/market/stocks/${date}`, {
    adjusted: 'true',
  });
  const env = parseEnvelope(await getJson(url, 'grouped'), `Polygon grouped daily ${date}`);
  const bars: DailyBar[] = [];
  const sessions = new Map<number, string>();
  let skipped = 0;
  for (const row of env.results ?? []) {
    const agg = aggSchema.safeParse(row);
    if (agg.success && agg.data.T) bars.push(toBar(agg.data.T, agg.data, sessions));
    else skipped++;
  }
  if (skipped > 0)
    logger?.warn('Polygon grouped daily: rows skipped for an unexpected shape', {
      date,
      skipped,
      kept: bars.length,
    });
  return bars;
}

async function fetchRange(
  ctx: { readonly target: Target; readonly getJson: GetJson; readonly maxPages: number },
  { ticker, from, to }: { readonly ticker: string; readonly from: string; readonly to: string },
): Promise<DailyBar[]> {
  if (!/^[A-Za-z0-9.:_-]{1,20}$/.test(ticker))
    throw new RangeError('ticker must be a Polygon symbol such as NVDA');
  assertDate(from, 'from');
  assertDate(to, 'to');
  if (from > to) throw new RangeError(`from (${from}) is after to (${to})`);
  const what = `Polygon daily range ${ticker}`;
  const bySession = new Map<string, DailyBar>();
  const sessions = new Map<number, string>();
  const seen = new Set<string>();
  let url: URL | undefined = buildUrl(
    ctx.target,
    `/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/1/day/${from}/${to}`,
    { adjusted: 'true', sort: 'asc', limit: '5000' },
  );
  while (url) {
    seen.add(url.href);
    if (seen.size > ctx.maxPages)
      throw polygonError('PolygonBadResponseError', `${what} exceeded ${ctx.maxPages} pages`);
    const env = parseEnvelope(await ctx.getJson(url, 'range'), what);
    for (const row of env.results ?? []) {
      const agg = aggSchema.safeParse(row);
      if (!agg.success) {
        throw polygonError(
          'PolygonBadResponseError',
          `${what} returned a malformed bar: ${clip(z.prettifyError(agg.error))}`,
          { requestId: env.request_id },
        );
      }
      const bar = toBar(ticker, agg.data, sessions);
      bySession.set(bar.session, bar);
    }
    url = env.next_url ? followUrl(ctx.target, env.next_url) : undefined;
    if (url && seen.has(url.href))
      throw polygonError(
        'PolygonBadResponseError',
        `${what} returned a next_url that repeats a page`,
      );
  }
  return [...bySession.values()].sort((a, b) => a.t - b.t);
}

function assertDate(value: string, name: string): void {
  if (!DATE_RE.test(value))
    throw new RangeError(`${name} must be a YYYY-MM-DD date, got ${JSON.stringify(value)}`);
}
