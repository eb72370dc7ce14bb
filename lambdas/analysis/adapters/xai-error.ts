/**
 * How an xAI call fails: the one error type of this boundary ({@link XaiError}), how an HTTP
 * answer or a transport failure becomes one, and which failures are retried in-process.
 */
import { TransportFailure } from '../../platform/http';
import { clip } from '../../platform/text';
import { UpstreamError, type UpstreamErrorInit } from '../../platform/upstream-error';
import type { CompletionUsage } from '../types';

/**
 * The failures an xAI call ends with (see {@link XaiError}): the upstream kinds the xAI client
 * produces. The analysis maps each to its failure (XAI_KINDS in ../failures.ts).
 */
export type XaiErrorKind =
  | 'unavailable'
  | 'auth'
  | 'credits-exhausted'
  | 'bad-request'
  | 'refusal'
  | 'truncated'
  | 'bad-response';

/** The error name and kind of each failure, by former class name. */
const FAILURES = {
  XaiAuthError: 'auth',
  XaiBadRequestError: 'bad-request',
  XaiRateLimitedError: 'unavailable',
  XaiCreditsExhaustedError: 'credits-exhausted',
  XaiServerError: 'unavailable',
  XaiTimeoutError: 'unavailable',
  XaiNetworkError: 'unavailable',
  XaiBadResponseError: 'bad-response',
  XaiTruncatedError: 'truncated',
  XaiRefusalError: 'refusal',
} as const satisfies Record<string, XaiErrorKind>;

type XaiFailure = keyof typeof FAILURES;

/** What an {@link XaiError} carries besides kind, name, status and Retry-After. */
export interface XaiErrorDetails {
  /** xAI's `code` field, e.g. "Client specified an invalid argument". */
  readonly code?: string;
  /** Usage of a completion that was billed but is unusable (truncated, refused). */
  readonly usage?: CompletionUsage;
  readonly responseId?: string;
}

/**
 * Every error the client throws; `kind` is what the analysis distinguishes:
 * - `unavailable`: 429 rate limit, 5xx/529, 408, a timeout, a network failure, or too little
 *   invocation time left to start an attempt. The only kind retried in-process (full-jitter
 *   backoff, at least Retry-After).
 * - `auth` (wrong, missing or blocked key: 400 "Incorrect API key", 401, 403),
 *   `credits-exhausted` (402/403/429 naming credits or a spending limit), `bad-request` (400,
 *   404 unknown model, 422), `bad-response` (a 2xx that is not a usable completion),
 *   `truncated` (`finish_reason: "length"`) and `refusal` (non-empty `refusal`, or
 *   `finish_reason: "content_filter"`): sent again now they would fail the same way, so the
 *   client does not retry them; the analysis flow decides what happens to the work (today it
 *   lets SQS redeliver it and, if it keeps failing, move it to the DLQ).
 * `name` keeps the former class names (`XaiTimeoutError`, `XaiCreditsExhaustedError`, …) so that
 * log lines and the failure texts built from `${name}: ${message}` are unchanged.
 */
export class XaiError extends UpstreamError<XaiErrorKind> {
  readonly code?: string;
  readonly usage?: CompletionUsage;
  readonly responseId?: string;

  constructor(message: string, init: UpstreamErrorInit<XaiErrorKind> & XaiErrorDetails) {
    super(message, init);
    this.code = init.code;
    this.usage = init.usage;
    this.responseId = init.responseId;
  }
}

type XaiErrorFields = XaiErrorDetails & {
  readonly status?: number;
  readonly retryAfterMs?: number;
};

export function xaiError(name: XaiFailure, message: string, fields: XaiErrorFields = {}): XaiError {
  return new XaiError(message, { ...fields, name, kind: FAILURES[name] });
}

export const isRetriedInProcess = (err: unknown): err is XaiError =>
  err instanceof XaiError && err.kind === 'unavailable';

const CREDITS_PATTERN =
  /credit|spending limit|quota|billing|insufficient (?:funds|balance)|payment/i;
const API_KEY_PATTERN = /api[\s_-]*key/i;
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

export function httpError(
  status: number,
  text: string,
  retryAfter: number | undefined,
  redact: (text: string) => string,
): XaiError {
  const { code, message } = parseErrorBody(text);
  const safeCode = code === undefined ? undefined : redact(code);
  const detail = clip(redact(message || `HTTP ${status}`));
  const details: XaiErrorFields = { status, code: safeCode, retryAfterMs: retryAfter };
  const matchText = `${code ?? ''} ${message}`;
  const prefix = `xAI ${status}`;

  if ((status === 402 || status === 403 || status === 429) && CREDITS_PATTERN.test(matchText)) {
    return xaiError(
      'XaiCreditsExhaustedError',
      `${prefix}: credits exhausted or spending limit reached: ${detail}`,
      details,
    );
  }
  if (status === 429)
    return xaiError('XaiRateLimitedError', `${prefix}: rate limited: ${detail}`, details);
  if (status === 401 || status === 403 || (status === 400 && API_KEY_PATTERN.test(matchText))) {
    return xaiError('XaiAuthError', `${prefix}: authentication failed: ${detail}`, details);
  }
  if (status === 408)
    return xaiError('XaiTimeoutError', `${prefix}: request timeout: ${detail}`, details);
  if (status >= 500)
    return xaiError('XaiServerError', `${prefix}: server error: ${detail}`, details);
  if (status >= 400)
    return xaiError('XaiBadRequestError', `${prefix}: bad request: ${detail}`, details);
  return xaiError('XaiBadResponseError', `${prefix}: unexpected status: ${detail}`, details);
}

function parseErrorBody(text: string): { code?: string; message: string } {
  const json = parseJson(text);
  if (typeof json !== 'object' || json === null) return { message: text.trim() };
  const body = json as Record<string, unknown>;
  const nested =
    typeof body.error === 'object' && body.error !== null
      ? (body.error as Record<string, unknown>)
      : undefined;
  const message = nested ? nested.message : (body.error ?? body.message);
  const code = nested ? (nested.code ?? nested.type) : body.code;
  return {
    code:
      typeof code === 'string' || typeof code === 'number'
        ? String(code)
        : code === undefined || code === null
          ? undefined
          : JSON.stringify(code),
    message: typeof message === 'string' ? message : JSON.stringify(message ?? ''),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An attempt without a usable response: timed out, or a transport failure. */
export function toXaiError(err: unknown, redact: (text: string) => string): XaiError {
  if (err instanceof TransportFailure && err.timedOut) {
    return xaiError('XaiTimeoutError', `xAI request timed out after ${err.timeoutMs} ms`);
  }
  const code = err instanceof TransportFailure ? err.code : undefined;
  const message = redact(err instanceof Error ? err.message : String(err));
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return xaiError('XaiTimeoutError', `xAI request timed out (${code}): ${clip(message)}`);
  }
  return xaiError(
    'XaiNetworkError',
    `xAI request failed${code === undefined ? '' : ` (${code})`}: ${clip(message)}`,
  );
}
