import type { Dispatcher } from 'undici';
import { request } from './undici-request';
import { fullJitterDelay } from './backoff';
import { grouped } from './text';

/**
 * The one HTTP transport of the upstream clients (Polygon, xAI): one attempt with a deadline and
 * a body cap ({@link sendOnce}), the attempt loop with full-jitter backoff and Retry-After
 * ({@link withRetries}), Retry-After parsing ({@link parseRetryAfter}) and key redaction
 * ({@link redactor}). What a status means, and which failures are retried, stays with each
 * client; this module only runs the mechanics they share.
 *
 * Hand-written rather than a retry library (p-retry, undici's RetryAgent): the loop must stop on
 * the Lambda invocation's remaining time, never sleep past it, honour a Retry-After only up to
 * a cap, take a request-budget permit before every attempt, and report each attempt; none of the
 * libraries offers that deadline arithmetic, and wrapping one would take as much code as this.
 */

/** One HTTP request. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string | URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** A response with its body read as UTF-8. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly text: string;
  /**
   * Set when the body was larger than `maxBodyBytes`: how it went over (`declares 2,000,000
   * bytes, over` or `ran past`), for the error message; `text` then holds at most the cap.
   */
  readonly over?: string;
}

/** Options of {@link sendOnce}. */
export interface SendOptions {
  /** undici dispatcher (tests pass a `MockAgent`). @default undici's global dispatcher */
  readonly dispatcher?: Dispatcher;
  /** Deadline of the attempt, headers and body, in ms (an AbortController aborts it). */
  readonly timeoutMs: number;
  /** Most body bytes read; a longer body is cut off there. @default no limit */
  readonly maxBodyBytes?: number;
}

/**
 * No usable response arrived: the attempt timed out (`timedOut`), or the connection failed
 * (`code` is undici's or Node's error code, e.g. `ECONNRESET`). The clients turn it into their
 * own error; its message is not redacted yet.
 */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  /** undici's or Node's error code, when the failure had one. */
  readonly code?: string;

  constructor(
    readonly timedOut: boolean,
    readonly timeoutMs: number,
    cause: unknown,
    /** The status, when the headers had arrived and the body failed. */
    readonly status?: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    const code = (cause as { code?: unknown } | undefined)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/**
 * Sends one request and reads its body (at most `maxBodyBytes`), all within `timeoutMs`.
 * Resolves with any status; throws only a {@link TransportFailure}.
 */
export async function sendOnce(req: HttpRequest, opts: SendOptions): Promise<HttpResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  let status: number | undefined;
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      dispatcher: opts.dispatcher,
      signal: controller.signal,
    });
    status = res.statusCode;
    const body =
      opts.maxBodyBytes === undefined
        ? { text: await res.body.text() }
        : await readCapped(res, opts.maxBodyBytes);
    return { status, headers: res.headers, ...body };
  } catch (err) {
    throw new TransportFailure(controller.signal.aborted, opts.timeoutMs, err, status);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads at most `limit` bytes of a response body as UTF-8. A body that declares or streams more
 * is destroyed at once; `over` then says how it went over.
 */
async function readCapped(
  response: Dispatcher.ResponseData,
  limit: number,
): Promise<{ text: string; over?: string }> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
    return { text: '', over: `declares ${grouped(declared)} bytes, over` };
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (bytes + buf.length > limit) {
      chunks.push(buf.subarray(0, limit - bytes));
      response.body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), over: 'ran past' };
    }
    chunks.push(buf);
    bytes += buf.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

/**
 * Parses a `Retry-After` header value (delta-seconds or an HTTP date, read against `nowMs`)
 * into a wait in ms.
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

/** Options of {@link redactor}. */
export interface RedactorOptions {
  /** What a key is replaced with (each client keeps its own, e.g. `[REDACTED]`). */
  readonly placeholder: string;
  /** Further patterns to blank, e.g. `apiKey=…` in a URL; `$1` etc. may keep a prefix. */
  readonly patterns?: readonly { readonly re: RegExp; readonly with: string }[];
}

/**
 * A function that removes `secret` (as is and URL-encoded) and the given patterns from a text,
 * so that no error message or log line carries the API key.
 */
export function redactor(secret: string, opts: RedactorOptions): (text: string) => string {
  const forms = [...new Set([secret, encodeURIComponent(secret)])].filter((f) => f.length > 0);
  return (text) => {
    let out = text;
    for (const form of forms) out = out.split(form).join(opts.placeholder);
    for (const { re, with: replacement } of opts.patterns ?? []) out = out.replace(re, replacement);
    return out;
  };
}

/** The attempt loop's settings and hooks ({@link withRetries}). */
export interface RetryOptions<E extends Error> {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Full-jitter backoff base and cap, in ms. */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** Rounds the jitter delay to whole ms (each client keeps its rounding: floor or ceil). */
  readonly round: (ms: number) => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Per-attempt deadline, in ms; shortened to the time left. */
  readonly timeoutMs: number;
  /** Invocation time still usable for attempts, in ms. @default unbounded */
  readonly timeLeftMs?: () => number;
  /** No attempt starts with less time than this (nor with none at all). @default 0 */
  readonly minAttemptMs?: number;
  /** A retry is only waited for when this much time is left after the wait, in ms. */
  readonly retryNeedsMs: number;
  /** A Retry-After longer than this ends the loop with the error. @default unbounded */
  readonly maxRetryAfterMs?: number;
  /** Whether an attempt's error is retried here; any other error propagates unchanged. */
  readonly isRetried: (err: unknown) => err is E & { readonly retryAfterMs?: number };
  /** The error thrown when no attempt can start in time (`timeoutMs`: what was left). */
  readonly noTimeLeft: (timeoutMs: number) => Error;
  /** Called before every attempt (e.g. to take a permit); what it throws propagates. */
  readonly beforeAttempt?: () => Promise<void>;
  /** Called before each wait for a retry. */
  readonly onRetry?: (error: E, attempt: number, delayMs: number) => void;
  /** Called when a retry is dropped because the wait would not leave `retryNeedsMs`. */
  readonly onNoTimeToRetry?: (error: E, attempt: number) => void;
}

/**
 * Runs `attempt` (numbered from 1, given its deadline) until it succeeds, fails with an error
 * `isRetried` refuses, or the attempts, the Retry-After cap or the time left run out; each
 * retry waits a full-jitter delay, at least the error's `retryAfterMs`.
 */
export async function withRetries<T, E extends Error>(
  opts: RetryOptions<E>,
  attempt: (n: number, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const timeLeft = opts.timeLeftMs ?? (() => Number.POSITIVE_INFINITY);
  for (let n = 1; ; n++) {
    const timeoutMs = Math.min(opts.timeoutMs, timeLeft());
    if (timeoutMs <= 0 || timeoutMs < (opts.minAttemptMs ?? 0)) throw opts.noTimeLeft(timeoutMs);
    await opts.beforeAttempt?.();
    try {
      return await attempt(n, timeoutMs);
    } catch (err) {
      if (!opts.isRetried(err) || n >= opts.maxAttempts) throw err;
      const delayMs = opts.round(
        fullJitterDelay({
          attempt: n,
          baseMs: opts.backoffBaseMs,
          capMs: opts.backoffCapMs,
          random: opts.random,
          atLeastMs: err.retryAfterMs,
        }),
      );
      if ((err.retryAfterMs ?? 0) > (opts.maxRetryAfterMs ?? Number.POSITIVE_INFINITY)) throw err;
      if (timeLeft() - delayMs < opts.retryNeedsMs) {
        opts.onNoTimeToRetry?.(err, n);
        throw err;
      }
      opts.onRetry?.(err, n, delayMs);
      await opts.sleep(delayMs);
    }
  }
}

/** Waits `ms` milliseconds (the default `sleep` of the clients). */
export const sleepMs = (ms: number): Promise<void> =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));
