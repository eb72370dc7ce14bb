/**
 * The one failure type of every upstream boundary (Polygon, xAI). Each boundary has one subclass
 * (`PolygonError`, `XaiError`, in its client module) instead of a class per failure; `kind` says
 * what went wrong in one small vocabulary, and is exactly what the flows distinguish: each flow
 * reads it straight off the error and maps each kind once to what it does (no classification
 * step in between). The market-data request budget throws one too (`budget`). Whether the work is tried again later is the flow's decision, not the error's: an error
 * carries no `retryable` flag (the analysis flow retries xAI auth and credits failures through
 * SQS, for instance, while the client never retries them in-process).
 */

/**
 * What went wrong. A boundary uses the subset it can tell apart:
 * - `budget`: our own request budget for this upstream is used up; no request was sent
 *   (`retryAfterMs`: when the next permit frees up);
 * - `rate-limited`: HTTP 429 (Polygon; `retryAfterMs` when the server said how long to wait);
 * - `not-available`: the data is outside the plan or not published yet (Polygon 403);
 * - `auth`: the key is missing, wrong or blocked;
 * - `credits-exhausted`: the account's credits or spending limit are used up (xAI);
 * - `server`: HTTP 5xx (Polygon);
 * - `network`: no usable response: timeout, reset, refused, an unreadable body, no time left (Polygon);
 * - `unavailable`: any transient failure: 429, 5xx, timeout, network (xAI, which does not tell them apart);
 * - `bad-request`: the request was refused as malformed (xAI 400/404/422);
 * - `bad-response`: a 2xx answer that is not the documented shape;
 * - `refusal`, `truncated`: the model refused, or its answer was cut at the token cap (xAI);
 * - `other`: anything else (e.g. a Polygon 400/404: a bug on our side).
 */
export type UpstreamErrorKind =
  | 'budget'
  | 'rate-limited'
  | 'not-available'
  | 'auth'
  | 'credits-exhausted'
  | 'server'
  | 'network'
  | 'unavailable'
  | 'bad-request'
  | 'bad-response'
  | 'refusal'
  | 'truncated'
  | 'other';

/** What every upstream error carries besides its message. */
export interface UpstreamErrorInit<K extends UpstreamErrorKind> {
  readonly kind: K;
  /**
   * The error's `name` in logs. The boundaries keep the names of the classes this type replaced
   * (e.g. `XaiTimeoutError`, `PolygonRateLimitedError`), so log lines, log searches and the
   * `${name}: ${message}` texts the flows report read as before.
   */
  readonly name: string;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** The wait the server asked for (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/** A failed call to an upstream service; see {@link UpstreamErrorKind}. */
export class UpstreamError<K extends UpstreamErrorKind = UpstreamErrorKind> extends Error {
  readonly kind: K;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, init: UpstreamErrorInit<K>) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = init.name;
    this.kind = init.kind;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }
}
