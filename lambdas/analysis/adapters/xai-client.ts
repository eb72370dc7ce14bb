import type { Dispatcher } from 'undici';
import * as z from '../../platform/zod';
import {
  parseRetryAfter,
  redactor,
  sendOnce,
  sleepMs,
  withRetries,
  type HttpResponse,
} from '../../platform/http';
import { clip, grouped } from '../../platform/text';
import type { CompletionRequest, CompletionResult, CompletionUsage } from '../types';
import { httpError, isRetriedInProcess, toXaiError, xaiError, type XaiError } from './xai-error';

// The error type, under the client's import path as before.
export { XaiError, type XaiErrorDetails, type XaiErrorKind } from './xai-error';

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
  /** Clock used to read `Retry-After` HTTP dates, Unix ms. @default Date.now */
  readonly now?: () => number;
  /** Receives one warning per retried attempt (no key, no prompt, no answer). */
  readonly logger?: XaiLogger;
}

/** Token usage and cost of one request as xAI reports it (the analysis' own type). */
export type XaiUsage = CompletionUsage;

/**
 * A successful completion: `finish_reason` `stop`, no refusal, non-empty content. The analysis'
 * own result type (`content` is the raw answer, a JSON string to parse and validate; `attempts`
 * counts HTTP attempts, the successful one included), plus the finish reason.
 */
export interface XaiCompletion extends CompletionResult {
  readonly finishReason: string;
}

/** The xAI chat completions client. */
export interface XaiClient {
  /** The model id every request uses. */
  readonly model: string;
  /** Sends one chat completion, retrying transient failures; throws an {@link XaiError} otherwise. */
  complete(params: CompletionRequest): Promise<XaiCompletion>;
}

const completionSchema = z.object({
  id: z.string(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.nullish(z.string()),
          refusal: z.nullish(z.string()),
        }),
        finish_reason: z.nullish(z.string()),
      }),
    )
    .check(z.minLength(1)),
  usage: z.object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    total_tokens: z.number(),
    prompt_tokens_details: z.nullish(z.object({ cached_tokens: z.nullish(z.number()) })),
    completion_tokens_details: z.nullish(z.object({ reasoning_tokens: z.nullish(z.number()) })),
    cost_in_usd_ticks: z.nullish(z.number()),
  }),
});

/** Beyond the key itself: a key echoed in xAI's "Incorrect API key provided: …", or masked. */
const XAI_REDACTION = {
  placeholder: '[redacted]',
  patterns: [
    {
      re: /(api(?:\s|%20)*key(?:\s|%20)*provided:?(?:\s|%20)*)[^\s.%]+/gi,
      with: '$1[redacted]',
    },
    { re: /\b[\w-]{0,6}\*{3,}[\w-]{0,6}/g, with: '[redacted]' },
  ],
};

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
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const { remainingMs, logger, model } = options;
  const attemptOnce = attempter(options);

  async function complete(params: CompletionRequest): Promise<XaiCompletion> {
    const apiKey = (await options.apiKey()).trim();
    if (apiKey === '') throw xaiError('XaiAuthError', 'xAI API key is empty');
    const redact = redactor(apiKey, XAI_REDACTION);
    const body = requestBody(model, params);
    return withRetries<XaiCompletion, XaiError>(
      {
        maxAttempts,
        backoffBaseMs: options.baseDelayMs ?? 1_000,
        backoffCapMs: options.maxDelayMs ?? 20_000,
        round: Math.ceil,
        random: options.random ?? Math.random,
        sleep: options.sleep ?? sleepMs,
        timeoutMs: options.timeoutMs,
        timeLeftMs: remainingMs && (() => remainingMs() - reserveMs),
        minAttemptMs,
        retryNeedsMs: minAttemptMs,
        isRetried: isRetriedInProcess,
        noTimeLeft: (timeoutMs) =>
          xaiError(
            'XaiTimeoutError',
            `not enough invocation time left for an xAI attempt (${Math.max(0, Math.floor(timeoutMs))} ms < ${minAttemptMs} ms)`,
          ),
        onRetry: (error, attempt, delayMs) =>
          logger?.warn('xAI request failed, retrying', {
            attempt,
            maxAttempts,
            delayMs,
            error: error.name,
            status: error.status,
            model,
          }),
      },
      async (attempt, timeoutMs) => ({
        ...(await attemptOnce({ body, apiKey, timeoutMs, redact })),
        attempts: attempt,
      }),
    );
  }

  return { model, complete };
}

function requestBody(model: string, params: CompletionRequest): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: params.system },
      { role: 'user', content: params.user },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: { name: params.schemaName, schema: params.schema, strict: true },
    },
    temperature: params.temperature,
    max_completion_tokens: params.maxCompletionTokens,
  });
}

/** One HTTP attempt: sends, reads at most MAX_XAI_RESPONSE_BYTES, maps the outcome. */
function attempter(options: XaiClientOptions) {
  const now = options.now ?? Date.now;
  return async (a: {
    body: string;
    apiKey: string;
    timeoutMs: number;
    redact: (text: string) => string;
  }): Promise<Omit<XaiCompletion, 'attempts'>> => {
    let response: HttpResponse;
    try {
      response = await sendOnce(
        {
          method: 'POST',
          url: options.url,
          headers: {
            authorization: `Bearer ${a.apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: a.body,
        },
        {
          dispatcher: options.dispatcher,
          timeoutMs: a.timeoutMs,
          maxBodyBytes: MAX_XAI_RESPONSE_BYTES,
        },
      );
    } catch (err) {
      throw toXaiError(err, a.redact);
    }
    const { status, text, over } = response;
    const ok = status >= 200 && status < 300;
    if (ok && over !== undefined) {
      throw xaiError(
        'XaiBadResponseError',
        `xAI response body ${over} the limit of ${grouped(MAX_XAI_RESPONSE_BYTES)} bytes (MAX_XAI_RESPONSE_BYTES); it was not read further and nothing was stored`,
        { status },
      );
    }
    if (!ok) {
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now());
      throw httpError(status, text, retryAfterMs, a.redact);
    }
    return toCompletion(text, a.redact);
  };
}

function toCompletion(
  text: string,
  redact: (text: string) => string,
): Omit<XaiCompletion, 'attempts'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw xaiError(
      'XaiBadResponseError',
      `xAI returned a non-JSON 2xx body: ${clip(redact(text))}`,
    );
  }
  const parsed = completionSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw xaiError('XaiBadResponseError', `xAI response is not a chat completion (${clip(where)})`);
  }
  const data = parsed.data;
  const usage = usageOf(data.usage);
  const choice = data.choices[0];
  const content = usableAnswer(choice, { usage, responseId: data.id, status: 200 }, redact);
  return { id: data.id, model: data.model, content, finishReason: 'stop', usage };
}

type Completion = z.infer<typeof completionSchema>;

function usageOf(u: Completion['usage']): XaiUsage {
  return {
    promptTokens: u.prompt_tokens,
    completionTokens: u.completion_tokens,
    totalTokens: u.total_tokens,
    cachedPromptTokens: u.prompt_tokens_details?.cached_tokens ?? undefined,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? undefined,
    costInUsdTicks: u.cost_in_usd_ticks ?? undefined,
  };
}

/** The answer of a choice that finished with `stop`, unrefused and non-empty; else the error. */
function usableAnswer(
  choice: Completion['choices'][number],
  details: { readonly usage: XaiUsage; readonly responseId: string; readonly status: number },
  redact: (text: string) => string,
): string {
  const refusal = choice.message.refusal?.trim();
  if (refusal) {
    throw xaiError(
      'XaiRefusalError',
      `xAI model refused to answer: ${clip(redact(refusal))}`,
      details,
    );
  }
  const finishReason = choice.finish_reason ?? '';
  if (finishReason === 'length') {
    throw xaiError(
      'XaiTruncatedError',
      `xAI answer was truncated at max_completion_tokens (${details.usage.completionTokens} completion tokens)`,
      details,
    );
  }
  if (finishReason === 'content_filter') {
    throw xaiError('XaiRefusalError', 'xAI answer was stopped by the content filter', details);
  }
  if (finishReason !== 'stop') {
    throw xaiError(
      'XaiBadResponseError',
      `xAI finish_reason is ${JSON.stringify(choice.finish_reason)}, expected "stop"`,
      details,
    );
  }
  const content = choice.message.content ?? '';
  if (content.trim() === '') {
    throw xaiError('XaiBadResponseError', 'xAI answer content is empty', details);
  }
  return content;
}
