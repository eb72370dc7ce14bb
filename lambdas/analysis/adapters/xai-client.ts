import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { fullJitterDelay } from '../../platform/backoff';
import type { CompletionUsage } from '../types';

export { DEFAULT_XAI_API_URL, DEFAULT_XAI_MODEL } from '../config';

/**
 * Most bytes of an xAI response body read: 1,048,576 (1 MiB). The answer the analysis accepts is
 * at most MAX_ANSWER_BYTES (128 KiB); even with every byte JSON-escaped (`\u00XX`, 6 bytes: 768
 * KiB) and the envelope around it, such a body fits, so this limit never cuts off an answer the
 * parser would take. A larger 2xx body (declared or streamed) is cut off and fails as an
 * {@link XaiBadResponseError} (not retried; nothing is stored) instead of filling the function's
 * memory; an error body is cut at the limit and still classified by its status.
 */
export const MAX_XAI_RESPONSE_BYTES = 1024 * 1024;

/** Minimal logger the client reports retries to (Powertools `Logger` fits). */
export interface XaiLogger {
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** Options of {@link createXaiClient}. */
export interface XaiClientOptions {
  /** Chat completions URL (`XAI_API_URL`). */
  readonly url: string;
  /** Returns the API key (cached secret lookup); called once per `complete`. */
  readonly apiKey: () => Promise<string>;
  /** Grok model id (`XAI_MODEL`). */
  readonly model: string;
  /** Upper bound for one HTTP attempt (headers and body), ms. */
  readonly timeoutMs: number;
  /** Attempts per `complete`, including the first (1 = no retry). */
  readonly maxAttempts: number;
  /** Milliseconds left in the invocation (`context.getRemainingTimeInMillis`). */
  readonly remainingMs?: () => number;
  /** Time kept free after the call for storing the result and acknowledging, ms. @default 15000 */
  readonly reserveMs?: number;
  /** An attempt with less time than this is not started, ms. @default 2000 */
  readonly minAttemptMs?: number;
  /** Full-jitter backoff base, ms. @default 1000 */
  readonly baseDelayMs?: number;
  /** Full-jitter backoff cap, ms. @default 20000 */
  readonly maxDelayMs?: number;
  /** undici dispatcher (a `MockAgent` in tests). @default the global dispatcher */
  readonly dispatcher?: Dispatcher;
  /** Uniform random number in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Waits between attempts. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Receives one warning per retried attempt (no key, no prompt, no answer). */
  readonly logger?: XaiLogger;
}

/** One chat completion request. */
export interface XaiCompleteParams {
  readonly system: string;
  readonly user: string;
  /** JSON Schema of the answer (sent with `strict: true`). */
  readonly schema: Record<string, unknown>;
  /** `json_schema.name`. @default 'response' */
  readonly schemaName?: string;
  /** Cap on generated tokens (reasoning included). */
  readonly maxCompletionTokens: number;
  /** @default 0 */
  readonly temperature?: number;
}

/** Token usage and cost of one request as xAI reports it (the analysis' own type). */
export type XaiUsage = CompletionUsage;

/** A successful completion: `finish_reason` `stop`, no refusal, non-empty content. */
export interface XaiCompletion {
  readonly id: string;
  readonly model: string;
  /** The raw answer (a JSON string to parse and validate). */
  readonly content: string;
  readonly finishReason: string;
  readonly usage: XaiUsage;
  /** HTTP attempts made, including the successful one. */
  readonly attempts: number;
}

/** The xAI chat completions client. */
export interface XaiClient {
  /** The model id every request uses. */
  readonly model: string;
  /** Sends one chat completion, retrying transient failures; throws an {@link XaiError} otherwise. */
  complete(params: XaiCompleteParams): Promise<XaiCompletion>;
}

/** Details attached to every {@link XaiError}. */
export interface XaiErrorDetails {
  readonly status?: number;
  /** xAI's `code` field, e.g. "Client specified an invalid argument". */
  readonly code?: string;
  /** Retry-After of a 429/503, ms. */
  readonly retryAfterMs?: number;
  /** Usage of a completion that was billed but is unusable (truncated, refused). */
  readonly usage?: XaiUsage;
  readonly responseId?: string;
  readonly cause?: unknown;
}

/** Base class of every error the client throws. `retryable` says whether a later retry may succeed. */
export class XaiError extends Error {
  /** True when the same request may succeed later (rate limit, 5xx, timeout, network). */
  readonly retryable: boolean;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;
  readonly usage?: XaiUsage;
  readonly responseId?: string;

  constructor(message: string, retryable: boolean, details: XaiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'XaiError';
    this.retryable = retryable;
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
    this.usage = details.usage;
    this.responseId = details.responseId;
  }
}

/** Wrong, missing or blocked API key (400 "Incorrect API key", 401, 403). Not retried. */
export class XaiAuthError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiAuthError';
  }
}

/** The request was rejected (400, 404 unknown model, 422). Not retried. */
export class XaiBadRequestError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiBadRequestError';
  }
}

/** 429 rate limit: retried with backoff, honouring Retry-After. */
export class XaiRateLimitedError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, true, details);
    this.name = 'XaiRateLimitedError';
  }
}

/** Credits used up or spending limit reached (429/402/403 naming credits). Not retried. */
export class XaiCreditsExhaustedError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiCreditsExhaustedError';
  }
}

/** 5xx or 529 (overloaded): retried. */
export class XaiServerError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, true, details);
    this.name = 'XaiServerError';
  }
}

/** An attempt ran out of time, or too little invocation time was left to start one: retryable later. */
export class XaiTimeoutError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, true, details);
    this.name = 'XaiTimeoutError';
  }
}

/** Connection refused/reset or another transport failure: retried. */
export class XaiNetworkError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, true, details);
    this.name = 'XaiNetworkError';
  }
}

/** A 2xx response that is not a usable chat completion. Not retried. */
export class XaiBadResponseError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiBadResponseError';
  }
}

/** `finish_reason: "length"`: the answer was cut at `max_completion_tokens`. Not retried (same prompt, same cut). */
export class XaiTruncatedError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiTruncatedError';
  }
}

/** The model refused to answer (non-empty `refusal`, or `finish_reason: "content_filter"`). Not retried. */
export class XaiRefusalError extends XaiError {
  constructor(message: string, details?: XaiErrorDetails) {
    super(message, false, details);
    this.name = 'XaiRefusalError';
  }
}

const completionSchema = z.object({
  id: z.string(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    total_tokens: z.number(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().nullish() }).nullish(),
    cost_in_usd_ticks: z.number().nullish(),
  }),
});

const CREDITS_PATTERN =
  /credit|spending limit|quota|billing|insufficient (?:funds|balance)|payment/i;
const API_KEY_PATTERN = /api[\s_-]*key/i;
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const MAX_MESSAGE_CHARS = 300;

/**
 * Creates the xAI chat completions client.
 *
 * Each `complete` sends `{model, messages: [system, user], response_format: {type: 'json_schema',
 * json_schema: {name, schema, strict: true}}, temperature, max_completion_tokens}` (never `stop`,
 * penalties or `max_tokens`) with `Authorization: Bearer <key>`. Every attempt has a timeout of
 * `min(timeoutMs, remainingMs() − reserveMs)`; 429 rate limits, 5xx/529, timeouts and network
 * failures are retried up to `maxAttempts` with full-jitter backoff (at least Retry-After) while
 * the invocation has time left; everything else fails at once with a typed {@link XaiError}.
 * The key never appears in an error message or log line.
 */
export function createXaiClient(options: XaiClientOptions): XaiClient {
  const reserveMs = options.reserveMs ?? 15_000;
  const minAttemptMs = options.minAttemptMs ?? 2_000;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const random = options.random ?? Math.random;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const budgetMs = () =>
    options.remainingMs ? options.remainingMs() - reserveMs : Number.POSITIVE_INFINITY;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));

  async function complete(params: XaiCompleteParams): Promise<XaiCompletion> {
    const apiKey = (await options.apiKey()).trim();
    if (apiKey === '') throw new XaiAuthError('xAI API key is empty');
    const redact = redactor(apiKey);
    const body = JSON.stringify({
      model: options.model,
      messages: [
        { role: 'system', content: params.system },
        { role: 'user', content: params.user },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: params.schemaName ?? 'response', schema: params.schema, strict: true },
      },
      temperature: params.temperature ?? 0,
      max_completion_tokens: params.maxCompletionTokens,
    });

    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.min(options.timeoutMs, budgetMs());
      if (timeoutMs < minAttemptMs) {
        throw new XaiTimeoutError(
          `not enough invocation time left for an xAI attempt (${Math.max(0, Math.floor(timeoutMs))} ms < ${minAttemptMs} ms)`,
        );
      }
      let error: XaiError;
      try {
        return { ...(await attemptOnce(body, apiKey, timeoutMs, redact)), attempts: attempt };
      } catch (err) {
        error = toXaiError(err, redact);
      }
      if (!error.retryable || attempt >= maxAttempts) throw error;
      const delayMs = Math.ceil(
        fullJitterDelay({
          attempt,
          baseMs: baseDelayMs,
          capMs: maxDelayMs,
          random,
          atLeastMs: error.retryAfterMs,
        }),
      );
      if (budgetMs() - delayMs < minAttemptMs) throw error;
      options.logger?.warn('xAI request failed, retrying', {
        attempt,
        maxAttempts,
        delayMs,
        error: error.name,
        status: error.status,
        model: options.model,
      });
      await sleep(delayMs);
    }
  }

  async function attemptOnce(
    body: string,
    apiKey: string,
    timeoutMs: number,
    redact: (text: string) => string,
  ): Promise<Omit<XaiCompletion, 'attempts'>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await request(options.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        signal: controller.signal,
        dispatcher: options.dispatcher,
      });
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const { text, over } = await readCapped(response, MAX_XAI_RESPONSE_BYTES);
      if (ok && over !== undefined) {
        throw new XaiBadResponseError(
          `xAI response body ${over} the limit of ${grouped(MAX_XAI_RESPONSE_BYTES)} bytes (MAX_XAI_RESPONSE_BYTES); it was not read further and nothing was stored`,
          { status: response.statusCode },
        );
      }
      if (!ok) {
        throw httpError(
          response.statusCode,
          text,
          retryAfterMs(response.headers['retry-after']),
          redact,
        );
      }
      return toCompletion(text, redact);
    } catch (err) {
      if (!(err instanceof XaiError) && controller.signal.aborted) {
        throw new XaiTimeoutError(`xAI request timed out after ${timeoutMs} ms`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  return { model: options.model, complete };
}

/**
 * Reads at most `limit` bytes of a response body as UTF-8. A body that declares or streams more is
 * destroyed at once; `over` then says how it went over (for the error message).
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

function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function toCompletion(
  text: string,
  redact: (text: string) => string,
): Omit<XaiCompletion, 'attempts'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new XaiBadResponseError(`xAI returned a non-JSON 2xx body: ${snippet(redact(text))}`);
  }
  const parsed = completionSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new XaiBadResponseError(`xAI response is not a chat completion (${snippet(where)})`);
  }
  const data = parsed.data;
  const usage: XaiUsage = {
    promptTokens: data.usage.prompt_tokens,
    completionTokens: data.usage.completion_tokens,
    totalTokens: data.usage.total_tokens,
    cachedPromptTokens: data.usage.prompt_tokens_details?.cached_tokens ?? undefined,
    reasoningTokens: data.usage.completion_tokens_details?.reasoning_tokens ?? undefined,
    costInUsdTicks: data.usage.cost_in_usd_ticks ?? undefined,
  };
  const details = { usage, responseId: data.id, status: 200 };
  const choice = data.choices[0];
  const finishReason = choice.finish_reason ?? '';
  const refusal = choice.message.refusal?.trim();
  if (refusal) {
    throw new XaiRefusalError(`xAI model refused to answer: ${snippet(redact(refusal))}`, details);
  }
  if (finishReason === 'length') {
    throw new XaiTruncatedError(
      `xAI answer was truncated at max_completion_tokens (${usage.completionTokens} completion tokens)`,
      details,
    );
  }
  if (finishReason === 'content_filter') {
    throw new XaiRefusalError('xAI answer was stopped by the content filter', details);
  }
  if (finishReason !== 'stop') {
    throw new XaiBadResponseError(
      `xAI finish_reason is ${JSON.stringify(choice.finish_reason)}, expected "stop"`,
      details,
    );
  }
  const content = choice.message.content ?? '';
  if (content.trim() === '') {
    throw new XaiBadResponseError('xAI answer content is empty', details);
  }
  return { id: data.id, model: data.model, content, finishReason, usage };
}

function httpError(
  status: number,
  text: string,
  retryAfter: number | undefined,
  redact: (text: string) => string,
): XaiError {
  const { code, message } = parseErrorBody(text);
  const safeCode = code === undefined ? undefined : redact(code);
  const detail = snippet(redact(message || `HTTP ${status}`));
  const details: XaiErrorDetails = { status, code: safeCode, retryAfterMs: retryAfter };
  const matchText = `${code ?? ''} ${message}`;
  const prefix = `xAI ${status}`;

  if ((status === 402 || status === 403 || status === 429) && CREDITS_PATTERN.test(matchText)) {
    return new XaiCreditsExhaustedError(
      `${prefix}: credits exhausted or spending limit reached: ${detail}`,
      details,
    );
  }
  if (status === 429) return new XaiRateLimitedError(`${prefix}: rate limited: ${detail}`, details);
  if (status === 401 || status === 403 || (status === 400 && API_KEY_PATTERN.test(matchText))) {
    return new XaiAuthError(`${prefix}: authentication failed: ${detail}`, details);
  }
  if (status === 408) return new XaiTimeoutError(`${prefix}: request timeout: ${detail}`, details);
  if (status >= 500) return new XaiServerError(`${prefix}: server error: ${detail}`, details);
  if (status >= 400) return new XaiBadRequestError(`${prefix}: bad request: ${detail}`, details);
  return new XaiBadResponseError(`${prefix}: unexpected status: ${detail}`, details);
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

function toXaiError(err: unknown, redact: (text: string) => string): XaiError {
  if (err instanceof XaiError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = redact(err instanceof Error ? err.message : String(err));
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new XaiTimeoutError(`xAI request timed out (${code}): ${snippet(message)}`);
  }
  return new XaiNetworkError(
    `xAI request failed${typeof code === 'string' ? ` (${code})` : ''}: ${snippet(message)}`,
  );
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function redactor(apiKey: string): (text: string) => string {
  const forms = [...new Set([apiKey, encodeURIComponent(apiKey)])].filter((f) => f.length > 0);
  return (text) => {
    let out = text;
    for (const form of forms) out = out.split(form).join('[redacted]');
    return out
      .replace(/(api(?:\s|%20)*key(?:\s|%20)*provided:?(?:\s|%20)*)[^\s.%]+/gi, '$1[redacted]')
      .replace(/\b[\w-]{0,6}\*{3,}[\w-]{0,6}/g, '[redacted]');
  };
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_MESSAGE_CHARS ? `${oneLine.slice(0, MAX_MESSAGE_CHARS)}…` : oneLine;
}
