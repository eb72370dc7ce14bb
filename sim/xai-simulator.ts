import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nextTradingDay } from '../lambdas/market-data/domain/market-calendar';
import { syntheticAgg } from './polygon-simulator';
import { XaiRateWindow, type XaiRateLimits } from './xai-rate-window';

/**
 * A local stand-in for `POST https://api.x.ai/v1/chat/completions` (SIMULATED, not Grok).
 *
 * It speaks the real wire format: the same request validation as xAI for what this service
 * sends (400 with xAI's body for a wrong key, 400 for `stop`/penalties on reasoning models,
 * 400 for a missing model or messages, 404 for an unknown model) and chat completion responses
 * with `usage.cost_in_usd_ticks` computed from {@link XAI_PRICES_USD_PER_MILLION}. Answers
 * conform to the request's JSON schema: one deterministic score per ticker, derived from the
 * RSI and the price versus MA50 of the holdings JSON in the user message.
 */

/** How the simulator answers a valid request. */
export type XaiSimMode =
  | 'ok'
  | 'rate-limited'
  | 'credits-exhausted'
  | 'server-error'
  | 'overloaded'
  | 'slow'
  | 'truncated'
  | 'refusal'
  | 'fenced'
  | 'out-of-range'
  | 'missing-holding';

/** Options of one mode switch. */
export interface XaiSimModeOptions {
  /** Apply the mode to the next N valid requests only, then fall back to the standing mode. */
  readonly times?: number;
  /** Delay of `slow`, ms. @default 2000 */
  readonly delayMs?: number;
  /** `Retry-After` seconds sent with `rate-limited` and `overloaded`; none when absent. */
  readonly retryAfterSeconds?: number;
}

/** A failure (or other mode) queued for the first valid requests. */
export interface XaiSimFailure extends XaiSimModeOptions {
  readonly mode: XaiSimMode;
}

/** Options of {@link startXaiSimulator}. */
export interface XaiSimulatorOptions {
  /** The key the simulator accepts (`Authorization: Bearer <apiKey>`). */
  readonly apiKey: string;
  /** Modes applied, in order, to the first valid requests before `ok`. */
  readonly failures?: readonly XaiSimFailure[];
  /**
   * Gives the scores a little real signal for the score track record: each score leans (by at
   * most ±3) towards the Polygon simulator's own return of the ticker over this many sessions
   * after the holding's `asOf` (its future, which a real model cannot see). Off by default, so
   * the scores stay those of RSI and MA50 alone; `npm start` turns it on with the horizon.
   */
  readonly signalSessions?: number;
  /**
   * xAI's per-minute limits to enforce (sim/xai-rate-window.ts): a request over either is
   * answered 429 with xAI's body and a `Retry-After`. Unlimited when absent.
   */
  readonly limits?: XaiRateLimits;
  /** Milliseconds before each admitted answer (xAI's latency, e.g. 8-20 s). @default none */
  readonly latencyMs?: () => number;
  /** Clock of the rate window, Unix ms. @default Date.now */
  readonly now?: () => number;
}

/** A running simulator. */
export interface XaiSimulator {
  /** Chat completions URL to use as `XAI_API_URL`. */
  readonly url: string;
  /** Parsed JSON bodies of every request received, valid or not, in order. */
  readonly requests: Record<string, unknown>[];
  /**
   * What the rate window decided for each valid request, in order, on the simulator's clock
   * (empty without `limits`): for checking that no window ever served more than the limits.
   */
  readonly rateDecisions: readonly XaiRateDecision[];
  /** Switches the mode: standing when `times` is absent, else for the next `times` valid requests. */
  setMode(mode: XaiSimMode, options?: XaiSimModeOptions): void;
  close(): Promise<void>;
}

/** One decision of the rate window: the request's time and whether it was admitted. */
export interface XaiRateDecision {
  /** The simulator's clock when the request was decided, Unix ms. */
  readonly at: number;
  readonly admitted: boolean;
  /** The limit a refused request was over, and the `Retry-After` it was sent. */
  readonly limit?: 'rpm' | 'tpm';
  readonly retryAfterSeconds?: number;
}

/** List price of a model, USD per 1M tokens (prompts under 200k tokens). */
export interface XaiModelPrice {
  readonly input: number;
  readonly cachedInput: number;
  /** Completion and reasoning tokens. */
  readonly output: number;
  /** Rejects `stop`, `presence_penalty` and `frequency_penalty`. */
  readonly reasoning: boolean;
}

/**
 * Models the simulator serves and their list prices (docs.x.ai/developers/models, checked for
 * grok-4.3 and grok-4.20-0309; grok-4.5 from a third-party copy of its model page). The
 * Grok 4 / 4.1 fast models were retired on 2026-05-15 and get 404, as on the real API.
 */
export const XAI_PRICES_USD_PER_MILLION: Readonly<Record<string, XaiModelPrice>> = {
  'grok-4.3': { input: 1.25, cachedInput: 0.2, output: 2.5, reasoning: true },
  'grok-4.20-0309-reasoning': { input: 1.25, cachedInput: 0.2, output: 2.5, reasoning: true },
  'grok-4.20-reasoning': { input: 1.25, cachedInput: 0.2, output: 2.5, reasoning: true },
  'grok-4.20-0309-non-reasoning': { input: 1.25, cachedInput: 0.2, output: 2.5, reasoning: false },
  'grok-4.20-non-reasoning': { input: 1.25, cachedInput: 0.2, output: 2.5, reasoning: false },
  'grok-4.5': { input: 2, cachedInput: 0.5, output: 6, reasoning: true },
};

/** 1 USD in xAI cost ticks. */
export const USD_TICKS = 10_000_000_000;

/** Simulated characters per token. */
const CHARS_PER_TOKEN = 4;

const INVALID_ARGUMENT = 'Client specified an invalid argument';
const RESOURCE_EXHAUSTED = 'Some resource has been exhausted';
const NOT_FOUND = 'Some requested entity was not found';
const UNAUTHENTICATED =
  'The request does not have valid authentication credentials for the operation.';
const REASONING_REJECTED_PARAMS: Record<string, string> = {
  stop: 'stop',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
};
const SIM_TEAM_ID = '00000000-0000-4000-8000-000000000000';

interface ScheduledMode {
  mode: XaiSimMode;
  remaining: number;
  options: XaiSimModeOptions;
}

interface SimHolding {
  ticker: string;
  price?: number;
  rsi?: number;
  ma50?: number;
  asOf?: string;
}

interface SimScore {
  ticker: string;
  score: number;
  reason: string;
}

/** Starts the simulator on 127.0.0.1 on an ephemeral port. */
export async function startXaiSimulator(options: XaiSimulatorOptions): Promise<XaiSimulator> {
  const requests: Record<string, unknown>[] = [];
  const rateDecisions: XaiRateDecision[] = [];
  const seenPrefixes = new Set<string>();
  let standing: ScheduledMode = { mode: 'ok', remaining: Number.POSITIVE_INFINITY, options: {} };
  let queue: ScheduledMode[] = (options.failures ?? []).map(({ mode, ...rest }) => ({
    mode,
    remaining: rest.times ?? 1,
    options: rest,
  }));
  let sequence = 0;
  const window = options.limits && new XaiRateWindow(options.limits);
  const now = options.now ?? Date.now;

  const nextMode = (): ScheduledMode => {
    const head = queue[0];
    if (!head) return standing;
    head.remaining -= 1;
    if (head.remaining <= 0) queue = queue.slice(1);
    return head;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 'Internal error', error: String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = parseObject(raw);
    requests.push(body ?? { unparseable: raw });

    if (req.method !== 'POST' || !(req.url ?? '').split('?')[0].endsWith('/chat/completions')) {
      return sendJson(res, 404, {
        code: NOT_FOUND,
        error: `No route for ${req.method} ${req.url}`,
      });
    }
    const auth = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(auth);
    if (!match) {
      return sendJson(res, 401, {
        code: UNAUTHENTICATED,
        error: 'No or an invalid authentication header was provided.',
      });
    }
    if (match[1].trim() !== options.apiKey) {
      return sendJson(res, 400, {
        code: INVALID_ARGUMENT,
        error: `Incorrect API key provided: ${maskKey(match[1].trim())}. You can obtain an API key from https://console.x.ai.`,
      });
    }
    if (raw.trim() === '') {
      return sendJson(res, 415, { code: INVALID_ARGUMENT, error: 'Expected a JSON request body.' });
    }
    if (!body) {
      return sendJson(res, 400, {
        code: INVALID_ARGUMENT,
        error: 'Failed to parse the request body as JSON.',
      });
    }
    const invalid = validateRequest(body);
    if (invalid) return sendJson(res, invalid.status, { code: invalid.code, error: invalid.error });

    const model = body.model as string;
    const at = now();
    const admission = window?.admit(at, requestTokens(body));
    if (admission?.ok) rateDecisions.push({ at, admitted: true });
    if (admission && !admission.ok) {
      const { limit, retryAfterSeconds } = admission;
      rateDecisions.push({ at, admitted: false, limit, retryAfterSeconds });
      const what = limit === 'rpm' ? 'requests' : 'tokens';
      return sendJson(
        res,
        429,
        {
          code: RESOURCE_EXHAUSTED,
          error: `Too many requests: your team ${SIM_TEAM_ID} has exceeded its ${what} per minute for model ${model}. Please retry later.`,
        },
        { 'retry-after': String(retryAfterSeconds) },
      );
    }
    const latency = options.latencyMs?.() ?? 0;
    if (latency > 0 && !(await delay(latency, res))) return;
    const scheduled = nextMode();
    switch (scheduled.mode) {
      case 'rate-limited':
        return sendJson(
          res,
          429,
          {
            code: RESOURCE_EXHAUSTED,
            error: `Too many requests: your team ${SIM_TEAM_ID} has exceeded its requests per minute for model ${model}. Please retry later.`,
          },
          retryAfterHeader(scheduled.options),
        );
      case 'credits-exhausted':
        return sendJson(res, 429, {
          code: RESOURCE_EXHAUSTED,
          error: `Your team ${SIM_TEAM_ID} has either used all available credits or reached its monthly spending limit. To continue making API requests, please purchase more credits or raise your spending limit.`,
        });
      case 'server-error':
        return sendJson(res, 500, {
          code: 'Internal error',
          error: 'Internal server error (simulated).',
        });
      case 'overloaded':
        return sendJson(
          res,
          529,
          {
            code: 'The service is currently unavailable',
            error: 'The model is overloaded, please try again later (simulated).',
          },
          retryAfterHeader(scheduled.options),
        );
      case 'slow':
        if (!(await delay(scheduled.options.delayMs ?? 2000, res))) return;
        break;
      default:
        break;
    }
    sequence += 1;
    sendJson(
      res,
      200,
      completion(body, scheduled.mode, sequence, seenPrefixes, options.signalSessions),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    requests,
    rateDecisions,
    setMode(mode, modeOptions = {}) {
      const entry: ScheduledMode = {
        mode,
        remaining: modeOptions.times ?? Number.POSITIVE_INFINITY,
        options: modeOptions,
      };
      if (modeOptions.times === undefined) {
        standing = entry;
        queue = [];
      } else {
        queue = [entry];
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Tokens a request counts against the limit: its prompt and the most it may complete. */
function requestTokens(body: Record<string, unknown>): number {
  const messages = body.messages as { content: string }[];
  const chars =
    messages.reduce((n, m) => n + m.content.length, 0) +
    JSON.stringify(body.response_format ?? '').length;
  const most = typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : 0;
  return tokens(chars) + most;
}

function validateRequest(
  body: Record<string, unknown>,
): { status: number; code: string; error: string } | undefined {
  const bad = (error: string) => ({ status: 400, code: INVALID_ARGUMENT, error });
  if (typeof body.model !== 'string' || body.model === '')
    return bad('Missing required field: model');
  const price = XAI_PRICES_USD_PER_MILLION[body.model];
  if (!price) {
    return {
      status: 404,
      code: NOT_FOUND,
      error: `The model ${body.model} does not exist or your team ${SIM_TEAM_ID} does not have access to it.`,
    };
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return bad('Missing required field: messages (a non-empty array)');
  }
  for (const [i, m] of body.messages.entries()) {
    if (
      !isRecord(m) ||
      typeof m.role !== 'string' ||
      !['system', 'user', 'assistant', 'developer'].includes(m.role)
    ) {
      return bad(`messages[${i}].role must be one of system, user, assistant, developer`);
    }
    if (typeof m.content !== 'string') return bad(`messages[${i}].content must be a string`);
  }
  if (price.reasoning) {
    for (const [param, name] of Object.entries(REASONING_REJECTED_PARAMS)) {
      if (body[param] !== undefined)
        return bad(`Model ${body.model} does not support parameter ${name}.`);
    }
  }
  if (
    body.temperature !== undefined &&
    (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)
  ) {
    return bad('temperature must be a number between 0 and 2');
  }
  for (const field of ['max_completion_tokens', 'max_tokens']) {
    const v = body[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1))
      return bad(`${field} must be a positive integer`);
  }
  const format = body.response_format;
  if (format !== undefined) {
    if (
      !isRecord(format) ||
      !['text', 'json_object', 'json_schema'].includes(String(format.type))
    ) {
      return bad('response_format.type must be one of text, json_object, json_schema');
    }
    if (format.type === 'json_schema') {
      const spec = format.json_schema;
      if (!isRecord(spec) || typeof spec.name !== 'string' || !isRecord(spec.schema)) {
        return bad('response_format.json_schema needs a name and a schema object');
      }
    }
  }
  return undefined;
}

function completion(
  body: Record<string, unknown>,
  mode: XaiSimMode,
  sequence: number,
  seenPrefixes: Set<string>,
  signalSessions?: number,
): Record<string, unknown> {
  const model = body.model as string;
  const price = XAI_PRICES_USD_PER_MILLION[model];
  const messages = body.messages as { role: string; content: string }[];
  const userText = messages
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n');
  const holdings = holdingsFrom(userText);
  const tickers = schemaTickers(body) ?? holdings.map((h) => h.ticker);
  const byTicker = new Map(holdings.map((h) => [h.ticker, h]));
  let scores = tickers.map((t) => scoreHolding(byTicker.get(t) ?? { ticker: t }, signalSessions));

  if (mode === 'out-of-range' && scores.length > 0) {
    scores = [{ ...scores[0], score: 15 }, ...scores.slice(1)];
  }
  if (mode === 'missing-holding') scores = scores.slice(0, -1);

  const answer = JSON.stringify({ scores });
  let content: string | null = answer;
  let refusal: string | null = null;
  let finishReason = 'stop';
  if (mode === 'fenced')
    content = `Here is the analysis:\n\`\`\`json\n${JSON.stringify({ scores }, null, 2)}\n\`\`\``;
  if (mode === 'truncated') {
    content = answer.slice(0, Math.floor(answer.length / 2));
    finishReason = 'length';
  }
  if (mode === 'refusal') {
    content = null;
    refusal = "I'm sorry, but I can't help with that request (simulated refusal).";
  }

  const promptChars =
    messages.reduce((n, m) => n + m.content.length, 0) +
    JSON.stringify(body.response_format ?? '').length;
  const promptTokens = tokens(promptChars);
  const prefix = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');
  const cachedTokens =
    prefix !== '' && seenPrefixes.has(`${model}\n${prefix}`)
      ? Math.min(promptTokens, tokens(prefix.length))
      : 0;
  if (prefix !== '') seenPrefixes.add(`${model}\n${prefix}`);
  const completionTokens = tokens((content ?? refusal ?? '').length);
  const reasoningTokens = price.reasoning ? 120 + 40 * tickers.length : 0;
  const costInUsdTicks =
    (promptTokens - cachedTokens) * ticksPerToken(price.input) +
    cachedTokens * ticksPerToken(price.cachedInput) +
    (completionTokens + reasoningTokens) * ticksPerToken(price.output);

  return {
    id: `sim-${String(sequence).padStart(6, '0')}`,
    object: 'chat.completion',
    created: 1_790_000_000 + sequence,
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal }, finish_reason: finishReason },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens + reasoningTokens,
      prompt_tokens_details: {
        text_tokens: promptTokens,
        audio_tokens: 0,
        image_tokens: 0,
        cached_tokens: cachedTokens,
      },
      completion_tokens_details: {
        reasoning_tokens: reasoningTokens,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
      num_sources_used: 0,
      cost_in_usd_ticks: costInUsdTicks,
    },
    system_fingerprint: 'fp_simulated',
  };
}

/**
 * The simulator's own return of `ticker` over `sessions` NYSE sessions after `asOf` (closes of
 * the Polygon simulator's synthetic series), or undefined without a usable `asOf`.
 */
export function simulatedForwardReturn(
  ticker: string,
  asOf: string | undefined,
  sessions: number,
): number | undefined {
  const start = asOf?.slice(0, 10);
  if (!start || !/^\d{4}-\d{2}-\d{2}$/.test(start)) return undefined;
  let end = start;
  for (let i = 0; i < sessions; i++) end = nextTradingDay(end);
  return syntheticAgg(ticker, end).c / syntheticAgg(ticker, start).c - 1;
}

/**
 * Deterministic score: RSI outside 45–55 and price more than 2% off MA50 move it from 0; with
 * `signalSessions`, the forward return adds up to ±3 (1 point per 1 %).
 */
function scoreHolding(h: SimHolding, signalSessions?: number): SimScore {
  const parts: string[] = [];
  let score = 0;
  const forward = signalSessions
    ? simulatedForwardReturn(h.ticker, h.asOf, signalSessions)
    : undefined;
  if (forward !== undefined) score += clamp(forward * 100, -3, 3);
  if (h.rsi !== undefined) {
    if (h.rsi > 55 || h.rsi < 45) score += clamp((50 - h.rsi) / 4, -6, 6);
    const label =
      h.rsi > 70
        ? 'overbought'
        : h.rsi < 30
          ? 'oversold'
          : h.rsi >= 45 && h.rsi <= 55
            ? 'neutral'
            : h.rsi > 55
              ? 'firm'
              : 'soft';
    parts.push(`RSI ${h.rsi.toFixed(1)} is ${label}`);
  } else {
    parts.push('no RSI');
  }
  if (h.price !== undefined && h.ma50 !== undefined && h.ma50 > 0) {
    const pct = (h.price / h.ma50 - 1) * 100;
    if (Math.abs(pct) > 2) score += clamp(-pct / 3, -4, 4);
    parts.push(
      Math.abs(pct) <= 2
        ? 'price is near MA50'
        : `price is ${Math.abs(pct).toFixed(1)}% ${pct > 0 ? 'above' : 'below'} MA50`,
    );
  } else {
    parts.push('no MA50 comparison');
  }
  const rounded = Math.round(clamp(score, -10, 10) * 10) / 10;
  return {
    ticker: h.ticker,
    score: Object.is(rounded, -0) ? 0 : rounded,
    reason: `Simulated: ${parts.join('; ')}.`,
  };
}

function holdingsFrom(text: string): SimHolding[] {
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) {
    const end = text.indexOf(']', i);
    if (end < 0) break;
    const parsed = parseJsonValue(text.slice(i, end + 1));
    if (Array.isArray(parsed) && parsed.some((e) => isRecord(e) && typeof e.ticker === 'string')) {
      return parsed.filter(isRecord).flatMap((e) =>
        typeof e.ticker === 'string'
          ? [
              {
                ticker: e.ticker.trim().toUpperCase(),
                price: num(e.price),
                rsi: num(e.rsi),
                ma50: num(e.ma50),
                asOf: typeof e.asOf === 'string' ? e.asOf : undefined,
              },
            ]
          : [],
      );
    }
  }
  return [];
}

function schemaTickers(body: Record<string, unknown>): string[] | undefined {
  const format = body.response_format;
  if (!isRecord(format) || !isRecord(format.json_schema)) return undefined;
  const schema = format.json_schema.schema;
  const enumValues = dig(schema, ['properties', 'scores', 'items', 'properties', 'ticker', 'enum']);
  return Array.isArray(enumValues) && enumValues.every((t) => typeof t === 'string')
    ? enumValues
    : undefined;
}

function dig(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (isRecord(v) ? v[key] : undefined), value);
}

function retryAfterHeader(options: XaiSimModeOptions): Record<string, string> {
  return options.retryAfterSeconds === undefined
    ? {}
    : { 'retry-after': String(options.retryAfterSeconds) };
}

function maskKey(key: string): string {
  return key.length <= 4 ? '***' : `${key.slice(0, 2)}***${key.slice(-2)}`;
}

function ticksPerToken(usdPerMillion: number): number {
  return Math.round((usdPerMillion * USD_TICKS) / 1_000_000);
}

function tokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    res.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function parseObject(text: string): Record<string, unknown> | undefined {
  const value = parseJsonValue(text);
  return isRecord(value) ? value : undefined;
}

function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
