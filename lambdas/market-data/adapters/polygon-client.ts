import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { fullJitterDelay } from '../../platform/backoff';
import { nyDateOf } from '../../platform/ny-time';
import type { BarLike } from '../domain/ticker-rows';

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
}

/** The logging surface the client needs; a Powertools `Logger` satisfies it. */
export interface PolygonLogger {
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** What the client reports after every HTTP attempt (for metrics). */
export interface PolygonAttemptInfo {
  /** Which operation the attempt belongs to. */
  readonly endpoint: 'grouped' | 'range';
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
   * Called before every HTTP attempt, retries and pages included (e.g. to take a permit from a
   * shared request budget). An error it throws is propagated unchanged.
   */
  readonly beforeAttempt?: () => Promise<void>;
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

interface PolygonErrorOptions {
  readonly status?: number;
  readonly retryable: boolean;
  readonly requestId?: string;
  readonly cause?: unknown;
}

/**
 * Base class of every error the client throws for a Polygon call. `retryable` tells the caller
 * whether trying the same call later can succeed (fail the SQS record) or not (acknowledge it).
 */
export class PolygonError extends Error {
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** Whether a later attempt of the same call can succeed. */
  readonly retryable: boolean;
  /** Polygon's `request_id`, when the body carried one. */
  readonly requestId?: string;

  constructor(message: string, options: PolygonErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolygonError';
    this.status = options.status;
    this.retryable = options.retryable;
    this.requestId = options.requestId;
  }
}

/** HTTP 429: the plan's request rate was exceeded. */
export class PolygonRateLimitedError extends PolygonError {
  /** The wait the server asked for (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;

  constructor(message: string, options: { requestId?: string; retryAfterMs?: number }) {
    super(message, { status: 429, retryable: true, requestId: options.requestId });
    this.name = 'PolygonRateLimitedError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * HTTP 403 (`NOT_AUTHORIZED`): the data is outside the plan, either too old or not published
 * yet (today's session before the end-of-day data is out). Not retried here; whether to try
 * again later is the caller's decision, so `retryable` is false.
 */
export class PolygonNotAvailableError extends PolygonError {
  constructor(message: string, options: { requestId?: string }) {
    super(message, { status: 403, retryable: false, requestId: options.requestId });
    this.name = 'PolygonNotAvailableError';
  }
}

/** HTTP 401: the API key is missing or unknown. */
export class PolygonAuthError extends PolygonError {
  constructor(message: string, options: { requestId?: string }) {
    super(message, { status: 401, retryable: false, requestId: options.requestId });
    this.name = 'PolygonAuthError';
  }
}

/** HTTP 5xx. */
export class PolygonServerError extends PolygonError {
  constructor(message: string, options: { status: number; requestId?: string }) {
    super(message, { status: options.status, retryable: true, requestId: options.requestId });
    this.name = 'PolygonServerError';
  }
}

/** No usable response: timeout, connection reset or refused, or no invocation time left to try. */
export class PolygonNetworkError extends PolygonError {
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, { retryable: true, cause: options.cause, status: options.status });
    this.name = 'PolygonNetworkError';
  }
}

/**
 * A 2xx response whose body is not JSON at all (cut off in transfer, or a proxy's page): a
 * transport fault like a reset, so it is retried in-process and, if it persists, treated as a
 * network failure (the job defers) rather than failing the job and paging someone at night.
 */
export class PolygonUnreadableBodyError extends PolygonNetworkError {
  constructor(message: string, status: number) {
    super(message, { status });
    this.name = 'PolygonUnreadableBodyError';
  }
}

/**
 * A 2xx response that is JSON but not the documented shape. Not retried in-process;
 * `retryable` is true so that the work is redelivered and, if it persists, reaches the DLQ.
 */
export class PolygonBadResponseError extends PolygonError {
  constructor(message: string, options: { status?: number; requestId?: string } = {}) {
    super(message, { status: options.status, retryable: true, requestId: options.requestId });
    this.name = 'PolygonBadResponseError';
  }
}

/** Any other HTTP 4xx (400 bad request, 404 unknown path, …): a bug on our side, never retried. */
export class PolygonRequestError extends PolygonError {
  constructor(message: string, options: { status: number; requestId?: string }) {
    super(message, { status: options.status, retryable: false, requestId: options.requestId });
    this.name = 'PolygonRequestError';
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const API_KEY_PARAM_RE = /^api[-_]?key$/i;
const KEY_IN_TEXT_RE = /(api[-_]?key=)[^&\s"']+/gi;
const UPSTREAM_TEXT_MAX = 300;

const optionalNumber = z
  .number()
  .nullish()
  .transform((v) => v ?? undefined);

const aggSchema = z.object({
  T: z.string().min(1).optional(),
  o: z.number(),
  h: z.number(),
  l: z.number(),
  c: z.number(),
  v: z.number().nonnegative(),
  vw: optionalNumber,
  n: optionalNumber,
  t: z.number().int(),
});

const envelopeSchema = z.object({
  status: z.enum(['OK', 'DELAYED']),
  request_id: z.string().optional(),
  resultsCount: z.number().int().nonnegative().optional(),
  results: z.array(z.unknown()).optional(),
  next_url: z.string().min(1).optional(),
});

const errorBodySchema = z.object({
  status: z.string().optional(),
  request_id: z.string().optional(),
  error: z.string().optional(),
  message: z.string().optional(),
});

type Envelope = z.infer<typeof envelopeSchema>;
type Agg = z.infer<typeof aggSchema>;
type Endpoint = PolygonAttemptInfo['endpoint'];

/**
 * Parses a `Retry-After` header value (delta-seconds or an HTTP date) into a wait in ms.
 * @returns the wait, or `undefined` when the header is absent or unreadable
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Creates a Polygon REST client. The key travels only in `Authorization: Bearer`; `apiKey`
 * query parameters in `next_url` are dropped; keys are scrubbed from every error message.
 */
export function createPolygonClient(opts: PolygonClientOptions): PolygonClient {
  const base = new URL(opts.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
  const backoffBaseMs = opts.backoffBaseMs ?? 500;
  const backoffCapMs = opts.backoffCapMs ?? 20_000;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
  const marginMs = opts.remainingMarginMs ?? 2_000;
  const maxPages = opts.maxPages ?? 50;
  const random = opts.random ?? Math.random;
  const sleep =
    opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? Date.now;
  const logger = opts.logger;

  const buildUrl = (path: string, query: Record<string, string>): URL => {
    const url = new URL(basePath + path, base.origin);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  };

  const followUrl = (nextUrl: string): URL => {
    let next: URL;
    try {
      next = new URL(nextUrl, base.origin);
    } catch {
      throw new PolygonBadResponseError('Polygon returned an unreadable next_url');
    }
    const path =
      next.origin !== base.origin && basePath && !next.pathname.startsWith(`${basePath}/`)
        ? basePath + next.pathname
        : next.pathname;
    const url = new URL(path + next.search, base.origin);
    for (const name of [...url.searchParams.keys()]) {
      if (API_KEY_PARAM_RE.test(name)) url.searchParams.delete(name);
    }
    return url;
  };

  const scrub = (text: string, key: string | undefined): string => {
    let out = text.replace(KEY_IN_TEXT_RE, '$1[REDACTED]');
    if (key) out = out.split(key).join('[REDACTED]');
    return clip(out);
  };

  const report = (info: PolygonAttemptInfo): void => {
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

  const errorFor = (
    status: number,
    text: string,
    headers: Record<string, string | string[] | undefined>,
    what: string,
    key: string,
  ): PolygonError => {
    let requestId: string | undefined;
    let detail = '';
    try {
      const parsed = errorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success) {
        requestId = parsed.data.request_id;
        detail = [parsed.data.status, parsed.data.error, parsed.data.message]
          .filter((s) => s)
          .join(': ');
      }
    } catch {
      detail = '';
    }
    const suffix = detail ? ` (${scrub(detail, key)})` : '';
    const message = `${what} failed with HTTP ${status}${suffix}`;
    if (status === 429) {
      return new PolygonRateLimitedError(message, {
        requestId,
        retryAfterMs: parseRetryAfter(headers['retry-after'], now()),
      });
    }
    if (status === 401) return new PolygonAuthError(message, { requestId });
    if (status === 403) return new PolygonNotAvailableError(message, { requestId });
    if (status >= 500) return new PolygonServerError(message, { status, requestId });
    return new PolygonRequestError(message, { status, requestId });
  };

  const attemptOnce = async (
    url: URL,
    endpoint: Endpoint,
    attempt: number,
    attemptTimeoutMs: number,
  ): Promise<unknown> => {
    const key = await opts.apiKey();
    const what = `Polygon GET ${url.pathname}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), attemptTimeoutMs);
    const started = performance.now();
    let status = 0;
    try {
      const res = await request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
        dispatcher: opts.dispatcher,
        signal: controller.signal,
      });
      status = res.statusCode;
      const text = await res.body.text();
      if (status < 200 || status >= 300) throw errorFor(status, text, res.headers, what, key);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new PolygonUnreadableBodyError(
          `${what} returned a body that is not JSON (${text.length} characters)`,
          status,
        );
      }
    } catch (err) {
      if (err instanceof PolygonError) throw err;
      const reason = controller.signal.aborted
        ? `timed out after ${attemptTimeoutMs} ms`
        : `failed: ${scrub(describeNetworkError(err), key)}`;
      const leaks = err instanceof Error && `${err.message}${err.stack ?? ''}`.includes(key);
      throw new PolygonNetworkError(`${what} ${reason}`, leaks ? {} : { cause: err });
    } finally {
      clearTimeout(timer);
      report({
        endpoint,
        path: url.pathname,
        status,
        durationMs: Math.round(performance.now() - started),
        attempt,
      });
    }
  };

  const backoffMs = (attempt: number, err: PolygonError): number =>
    Math.floor(
      fullJitterDelay({
        attempt,
        baseMs: backoffBaseMs,
        capMs: backoffCapMs,
        random,
        atLeastMs: err instanceof PolygonRateLimitedError ? err.retryAfterMs : undefined,
      }),
    );

  const getJson = async (url: URL, endpoint: Endpoint): Promise<unknown> => {
    for (let attempt = 1; ; attempt++) {
      const left = opts.remainingMs ? opts.remainingMs() - marginMs : Number.POSITIVE_INFINITY;
      if (left <= 0) {
        throw new PolygonNetworkError(
          `Polygon GET ${url.pathname} not sent: the invocation has no time left`,
        );
      }
      await opts.beforeAttempt?.();
      try {
        return await attemptOnce(url, endpoint, attempt, Math.min(timeoutMs, left));
      } catch (err) {
        if (!isRetriedInProcess(err) || attempt >= maxAttempts) throw err;
        const delayMs = backoffMs(attempt, err);
        if (err instanceof PolygonRateLimitedError && (err.retryAfterMs ?? 0) > maxRetryAfterMs)
          throw err;
        if (opts.remainingMs && opts.remainingMs() - marginMs - delayMs < timeoutMs) {
          logger?.warn('Polygon retry skipped: not enough invocation time left', {
            path: url.pathname,
            status: err.status,
            error: err.name,
            attempt,
          });
          throw err;
        }
        logger?.warn('Polygon request failed; retrying', {
          path: url.pathname,
          status: err.status,
          error: err.name,
          attempt,
          delayMs,
        });
        await sleep(delayMs);
      }
    }
  };

  const parseEnvelope = (body: unknown, what: string): Envelope => {
    const parsed = envelopeSchema.safeParse(body);
    if (!parsed.success)
      throw new PolygonBadResponseError(
        `${what} returned an unexpected body: ${clip(z.prettifyError(parsed.error))}`,
      );
    const env = parsed.data;
    if (env.results === undefined && (env.resultsCount ?? 0) > 0) {
      throw new PolygonBadResponseError(
        `${what} reported ${env.resultsCount} results but sent none`,
        { requestId: env.request_id },
      );
    }
    return env;
  };

  const toBar = (ticker: string, a: Agg, sessions: Map<number, string>): DailyBar => ({
    ticker,
    session: sessionOf(a.t, sessions),
    open: a.o,
    high: a.h,
    low: a.l,
    close: a.c,
    volume: a.v,
    ...(a.vw === undefined ? {} : { vwap: a.vw }),
    ...(a.n === undefined ? {} : { trades: a.n }),
    t: a.t,
  });

  return {
    async groupedDaily(date) {
      assertDate(date, 'date');
      const url = buildUrl(`/v2/aggs/grouped/locale/us/market/stocks/${date}`, {
        adjusted: 'true',
      });
      const what = `Polygon grouped daily ${date}`;
      const env = parseEnvelope(await getJson(url, 'grouped'), what);
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
    },

    async dailyRange(ticker, from, to) {
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
        `/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/1/day/${from}/${to}`,
        {
          adjusted: 'true',
          sort: 'asc',
          limit: '5000',
        },
      );
      while (url) {
        seen.add(url.href);
        if (seen.size > maxPages)
          throw new PolygonBadResponseError(`${what} exceeded ${maxPages} pages`);
        const env = parseEnvelope(await getJson(url, 'range'), what);
        for (const row of env.results ?? []) {
          const agg = aggSchema.safeParse(row);
          if (!agg.success) {
            throw new PolygonBadResponseError(
              `${what} returned a malformed bar: ${clip(z.prettifyError(agg.error))}`,
              { requestId: env.request_id },
            );
          }
          const bar = toBar(ticker, agg.data, sessions);
          bySession.set(bar.session, bar);
        }
        url = env.next_url ? followUrl(env.next_url) : undefined;
        if (url && seen.has(url.href))
          throw new PolygonBadResponseError(`${what} returned a next_url that repeats a page`);
      }
      return [...bySession.values()].sort((a, b) => a.t - b.t);
    },
  };
}

function sessionOf(t: number, cache: Map<number, string>): string {
  let session = cache.get(t);
  if (session === undefined) {
    session = nyDateOf(t);
    cache.set(t, session);
  }
  return session;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > UPSTREAM_TEXT_MAX ? `${flat.slice(0, UPSTREAM_TEXT_MAX)}…` : flat;
}

function isRetriedInProcess(err: unknown): err is PolygonError {
  return (
    err instanceof PolygonRateLimitedError ||
    err instanceof PolygonServerError ||
    err instanceof PolygonNetworkError
  );
}

function assertDate(value: string, name: string): void {
  if (!DATE_RE.test(value))
    throw new RangeError(`${name} must be a YYYY-MM-DD date, got ${JSON.stringify(value)}`);
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code} ${err.message}` : err.message;
}
