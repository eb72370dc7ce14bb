/**
 * How a Polygon call fails: the one error type of this boundary ({@link PolygonError}), how an
 * HTTP answer or a transport failure becomes one, and which failures are retried in-process.
 */
import * as z from '../../platform/zod';
import { parseRetryAfter, TransportFailure, type HttpResponse } from '../../platform/http';
import { clip } from '../../platform/text';
import { UpstreamError, type UpstreamErrorInit } from '../../platform/upstream-error';

/**
 * The failures a Polygon call ends with (see {@link PolygonError}): the upstream kinds an HTTP
 * call to Polygon can produce. The request budget's `budget` is not one: no call was made.
 */
export type PolygonErrorKind =
  'rate-limited' | 'not-available' | 'auth' | 'server' | 'network' | 'bad-response' | 'other';

/** The error name and kind of each failure, by former class name. */
const FAILURES = {
  PolygonRateLimitedError: 'rate-limited',
  PolygonNotAvailableError: 'not-available',
  PolygonAuthError: 'auth',
  PolygonServerError: 'server',
  PolygonNetworkError: 'network',
  PolygonUnreadableBodyError: 'network',
  PolygonBadResponseError: 'bad-response',
  PolygonRequestError: 'other',
} as const satisfies Record<string, PolygonErrorKind>;

type PolygonFailure = keyof typeof FAILURES;

/**
 * Every error the client throws for a Polygon call; `kind` is what the refresh job distinguishes:
 * - `rate-limited` (HTTP 429, `retryAfterMs` from Retry-After), `server` (5xx) and `network` (no
 *   usable response: timeout, reset, refused, no invocation time left, or a 2xx body that is not
 *   JSON at all, cut off in transfer or a proxy's page): retried in-process, then the job defers;
 * - `not-available` (403 `NOT_AUTHORIZED`: the data is outside the plan, too old or not
 *   published yet) and `auth` (401): not retried; what to do is the caller's decision;
 * - `bad-response`: a 2xx answer that is JSON but not the documented shape; not retried here,
 *   the work is redelivered and, if it persists, reaches the DLQ;
 * - `other`: any other 4xx (400, 404): a bug on our side, never retried.
 * `name` keeps the former class names (`PolygonRateLimitedError`, `PolygonUnreadableBodyError`, …)
 * so that log lines and the failure texts built from `${name}: ${message}` are unchanged.
 */
export class PolygonError extends UpstreamError<PolygonErrorKind> {
  /** Polygon's `request_id`, when the body carried one. */
  readonly requestId?: string;

  constructor(
    message: string,
    init: UpstreamErrorInit<PolygonErrorKind> & { readonly requestId?: string },
  ) {
    super(message, init);
    this.requestId = init.requestId;
  }
}

export function polygonError(
  name: PolygonFailure,
  message: string,
  init: Omit<ConstructorParameters<typeof PolygonError>[1], 'kind' | 'name'> = {},
): PolygonError {
  return new PolygonError(message, { ...init, name, kind: FAILURES[name] });
}

/** HTTP status → failure, for a non-2xx answer. */
export function failureOf(status: number): PolygonFailure {
  if (status === 429) return 'PolygonRateLimitedError';
  if (status === 401) return 'PolygonAuthError';
  if (status === 403) return 'PolygonNotAvailableError';
  return status >= 500 ? 'PolygonServerError' : 'PolygonRequestError';
}

/** Retried in-process: a later attempt of the same request may succeed within seconds. */
const RETRIED_KINDS: ReadonlySet<PolygonErrorKind> = new Set(['rate-limited', 'server', 'network']);
export const isRetriedInProcess = (err: unknown): err is PolygonError =>
  err instanceof PolygonError && RETRIED_KINDS.has(err.kind);

const errorBodySchema = z.object({
  status: z.optional(z.string()),
  request_id: z.optional(z.string()),
  error: z.optional(z.string()),
  message: z.optional(z.string()),
});

/** The error of a non-2xx answer, with Polygon's own status and message when its body has them. */
export function errorFor(
  res: HttpResponse,
  what: string,
  redact: (text: string) => string,
  now: () => number,
): PolygonError {
  let requestId: string | undefined;
  let detail = '';
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(res.text));
    if (parsed.success) {
      requestId = parsed.data.request_id;
      detail = [parsed.data.status, parsed.data.error, parsed.data.message]
        .filter((s) => s)
        .join(': ');
    }
  } catch {
    detail = '';
  }
  const suffix = detail ? ` (${clip(redact(detail))})` : '';
  const { status } = res;
  return polygonError(failureOf(status), `${what} failed with HTTP ${status}${suffix}`, {
    status,
    requestId,
    retryAfterMs: status === 429 ? parseRetryAfter(res.headers['retry-after'], now()) : undefined,
  });
}

/** No usable response; the cause is kept unless its text carries the key. */
export function networkError(
  fail: TransportFailure,
  what: string,
  key: string,
  redact: (text: string) => string,
): PolygonError {
  const cause = fail.cause;
  const text = !(cause instanceof Error)
    ? 'unknown error'
    : fail.code === undefined
      ? cause.message
      : `${fail.code} ${cause.message}`;
  const reason = fail.timedOut
    ? `timed out after ${fail.timeoutMs} ms`
    : `failed: ${clip(redact(text))}`;
  const leaks = cause instanceof Error && `${cause.message}${cause.stack ?? ''}`.includes(key);
  return polygonError('PolygonNetworkError', `${what} ${reason}`, leaks ? {} : { cause });
}

/**
 * A 2xx body that is not JSON at all (cut off in transfer, or a proxy's page) is a transport
 * fault like a reset: retried in-process and, if it persists, the job defers.
 */
export function parseJsonBody(text: string, what: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw polygonError(
      'PolygonUnreadableBodyError',
      `${what} returned a body that is not JSON (${text.length} characters)`,
      { status },
    );
  }
}
