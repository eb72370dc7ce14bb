import { MockAgent } from 'undici';
import type { CompletionRequest } from '../../../../lambdas/analysis/types';
import { isCompletionFailure } from '../../../../lambdas/analysis/ports';
import { UpstreamError } from '../../../../lambdas/platform/upstream-error';
import {
  createXaiClient,
  XaiError,
  MAX_XAI_RESPONSE_BYTES,
  type XaiClientOptions,
} from '../../../../lambdas/analysis/adapters/xai-client';

const ORIGIN = 'https://api.x.ai';
const PATH = '/v1/chat/completions';
const API_KEY = 'xai-SECRETkey1234567890abcdef';
const CREDITS_MESSAGE =
  'Your team 16f2151a-40f4-4a80-8ad0-cae00c27e8dd has either used all available credits or reached its monthly spending limit. To continue making API requests, please purchase more credits or raise your spending limit.';

const params: CompletionRequest = {
  system: 'system prompt',
  user: 'user prompt',
  schema: {
    type: 'object',
    properties: { scores: { type: 'array' } },
    required: ['scores'],
    additionalProperties: false,
  },
  schemaName: 'portfolio_opportunity_scores',
  maxCompletionTokens: 4000,
  temperature: 0,
};

function completionBody(
  overrides: { content?: string | null; refusal?: string | null; finish_reason?: string } = {},
) {
  return {
    id: 'resp-1',
    object: 'chat.completion',
    created: 1790000000,
    model: 'grok-4.3',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '{"scores":[]}',
          refusal: null,
          ...pick(overrides, ['content', 'refusal']),
        },
        finish_reason: overrides.finish_reason ?? 'stop',
      },
    ],
    usage: {
      prompt_tokens: 900,
      completion_tokens: 120,
      total_tokens: 1420,
      prompt_tokens_details: { cached_tokens: 600 },
      completion_tokens_details: { reasoning_tokens: 400 },
      cost_in_usd_ticks: 17_250_000,
    },
  };
}

function pick<T extends object>(obj: T, keys: (keyof T)[]): Partial<T> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]])) as Partial<T>;
}

describe('createXaiClient', () => {
  let agent: MockAgent;
  let sleeps: number[];
  let warnings: Array<{ message: string; attributes?: Record<string, unknown> }>;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    sleeps = [];
    warnings = [];
  });

  afterEach(async () => {
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  function client(overrides: Partial<XaiClientOptions> = {}) {
    return createXaiClient({
      url: `${ORIGIN}${PATH}`,
      apiKey: () => Promise.resolve(API_KEY),
      model: 'grok-4.3',
      timeoutMs: 30_000,
      maxAttempts: 3,
      dispatcher: agent,
      random: () => 0.5,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      logger: { warn: (message, attributes) => warnings.push({ message, attributes }) },
      ...overrides,
    });
  }

  function intercept() {
    return agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' });
  }

  async function failure(promise: Promise<unknown>): Promise<XaiError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(XaiError);
      return err as XaiError;
    }
    throw new Error('expected the call to fail');
  }

  describe('request', () => {
    it('sends the model, both messages, a strict json_schema, temperature 0 and max_completion_tokens only', async () => {
      // Prepare
      let sent: { body?: unknown; headers?: unknown } = {};
      intercept().reply((opts) => {
        sent = { body: JSON.parse(opts.body as string), headers: opts.headers };
        return { statusCode: 200, data: completionBody() };
      });

      // Act
      await client().complete(params);

      // Assess
      expect(sent.body).toEqual({
        model: 'grok-4.3',
        messages: [
          { role: 'system', content: 'system prompt' },
          { role: 'user', content: 'user prompt' },
        ],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'portfolio_opportunity_scores',
            schema: params.schema,
            strict: true,
          },
        },
        temperature: 0,
        max_completion_tokens: 4000,
      });
      for (const forbidden of ['stop', 'presence_penalty', 'frequency_penalty', 'max_tokens']) {
        expect(sent.body).not.toHaveProperty(forbidden);
      }
      expect(sent.headers).toMatchObject({
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
      });
    });

    it('returns the content, finish reason and usage including cached, reasoning and cost figures', async () => {
      // Prepare
      intercept().reply(200, completionBody());

      // Act
      const result = await client().complete(params);

      // Assess
      expect(result).toEqual({
        id: 'resp-1',
        model: 'grok-4.3',
        content: '{"scores":[]}',
        finishReason: 'stop',
        usage: {
          promptTokens: 900,
          completionTokens: 120,
          totalTokens: 1420,
          cachedPromptTokens: 600,
          reasoningTokens: 400,
          costInUsdTicks: 17_250_000,
        },
        attempts: 1,
      });
    });

    it('fails without a request when the key is empty', async () => {
      // Act
      const error = await failure(client({ apiKey: () => Promise.resolve('  ') }).complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiAuthError', kind: 'auth' });
    });
  });

  describe('error classification', () => {
    it.each([
      [
        400,
        {
          code: 'Client specified an invalid argument',
          error:
            'Incorrect API key provided: xa***ef. You can obtain an API key from https://console.x.ai.',
        },
        'XaiAuthError',
      ],
      [
        401,
        {
          code: 'The request does not have valid authentication credentials for the operation.',
          error: 'No or an invalid authentication header was provided.',
        },
        'XaiAuthError',
      ],
      [
        403,
        {
          code: 'The caller does not have permission to execute the specified operation',
          error: 'Your API key is blocked.',
        },
        'XaiAuthError',
      ],
      [
        400,
        {
          code: 'Client specified an invalid argument',
          error: 'Model grok-4.3 does not support parameter presencePenalty.',
        },
        'XaiBadRequestError',
      ],
      [
        404,
        {
          code: 'Some requested entity was not found',
          error:
            'The model grok-4-1-fast-reasoning does not exist or your team does not have access to it.',
        },
        'XaiBadRequestError',
      ],
      [
        422,
        {
          code: 'Client specified an invalid argument',
          error: 'Failed to deserialize the JSON body into the target type',
        },
        'XaiBadRequestError',
      ],
      [
        429,
        { code: 'Some resource has been exhausted', error: CREDITS_MESSAGE },
        'XaiCreditsExhaustedError',
      ],
      [
        403,
        {
          code: 'The caller does not have permission to execute the specified operation',
          error: CREDITS_MESSAGE,
        },
        'XaiCreditsExhaustedError',
      ],
    ])('maps %d %j to a non-retryable error without retrying', async (status, body, type) => {
      // Prepare
      intercept().reply(status, body);

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.name).toBe(type);
      expect(error.kind).not.toBe('unavailable');
      expect(error.status).toBe(status);
      expect(error.code).toBe(body.code);
      expect(sleeps).toEqual([]);
    });

    it.each([
      [429, 'XaiRateLimitedError'],
      [500, 'XaiServerError'],
      [502, 'XaiServerError'],
      [503, 'XaiServerError'],
      [504, 'XaiServerError'],
      [529, 'XaiServerError'],
    ])('retries %d until maxAttempts and then throws a retryable error', async (status, type) => {
      // Prepare
      intercept().reply(status, { code: 'x', error: 'try later' }).times(3);

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.name).toBe(type);
      expect(error.kind).toBe('unavailable');
      expect(sleeps).toHaveLength(2);
      expect(warnings.map((w) => w.attributes?.error)).toEqual([type, type]);
    });

    it('reads an OpenAI-style nested error body too', async () => {
      // Prepare
      intercept().reply(400, {
        error: {
          message: 'temperature must be between 0 and 2',
          type: 'invalid_request_error',
          code: 400,
        },
      });

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadRequestError', kind: 'bad-request' });
      expect(error.message).toBe('xAI 400: bad request: temperature must be between 0 and 2');
    });

    it('reports a non-JSON error body as text', async () => {
      // Prepare
      intercept().reply(502, '<html>Bad gateway</html>').times(3);

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.message).toBe('xAI 502: server error: <html>Bad gateway</html>');
    });
  });

  describe('retries', () => {
    it('succeeds after transient failures and reports the attempts', async () => {
      // Prepare
      intercept().reply(529, { code: 'The service is currently unavailable', error: 'overloaded' });
      intercept().reply(429, {
        code: 'Some resource has been exhausted',
        error: 'Too many requests',
      });
      intercept().reply(200, completionBody());

      // Act
      const result = await client().complete(params);

      // Assess
      expect(result.attempts).toBe(3);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toEqual({
        message: 'xAI request failed, retrying',
        attributes: {
          attempt: 1,
          maxAttempts: 3,
          delayMs: 500,
          error: 'XaiServerError',
          status: 529,
          model: 'grok-4.3',
        },
      });
    });

    it('waits a full-jitter delay that grows with the attempt and is capped', async () => {
      // Prepare
      intercept().reply(500, { code: 'x', error: 'boom' }).times(4);

      // Act
      await failure(
        client({
          maxAttempts: 5,
          random: () => 0.999,
          baseDelayMs: 1000,
          maxDelayMs: 3000,
        }).complete(params),
      );

      // Assess
      expect(sleeps).toEqual([999, 1998, 2997, 2997]);
    });

    it('waits at least the Retry-After of a 429', async () => {
      // Prepare
      intercept().reply(
        429,
        { code: 'Some resource has been exhausted', error: 'Too many requests' },
        { headers: { 'retry-after': '7' } },
      );
      intercept().reply(200, completionBody());

      // Act
      await client().complete(params);

      // Assess
      expect(sleeps).toEqual([7000]);
    });

    it('gives up when the Retry-After does not fit in the time left', async () => {
      // Prepare
      intercept().reply(
        429,
        { code: 'Some resource has been exhausted', error: 'Too many requests' },
        { headers: { 'retry-after': '60' } },
      );

      // Act
      const error = await failure(
        client({ remainingMs: () => 50_000, reserveMs: 10_000 }).complete(params),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiRateLimitedError', kind: 'unavailable' });
      expect(error.retryAfterMs).toBe(60_000);
      expect(sleeps).toEqual([]);
    });

    it('retries a network failure', async () => {
      // Prepare
      intercept().replyWithError(
        Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      );
      intercept().reply(200, completionBody());

      // Act
      const result = await client().complete(params);

      // Assess
      expect(result.attempts).toBe(2);
      expect(warnings[0].attributes?.error).toBe('XaiNetworkError');
    });

    it('throws a retryable network error after the last attempt', async () => {
      // Prepare
      intercept().replyWithError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );

      // Act
      const error = await failure(client({ maxAttempts: 1 }).complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiNetworkError', kind: 'unavailable' });
      expect(error.kind).toBe('unavailable');
    });
  });

  describe('timeouts', () => {
    it('aborts an attempt after timeoutMs and retries it', async () => {
      // Prepare
      intercept().reply(200, completionBody()).delay(1_000);
      intercept().reply(200, completionBody());

      // Act
      const result = await client({ timeoutMs: 50, minAttemptMs: 10 }).complete(params);

      // Assess
      expect(result.attempts).toBe(2);
      expect(warnings[0].attributes?.error).toBe('XaiTimeoutError');
    });

    it('bounds the attempt by the invocation time left minus the reserve', async () => {
      // Prepare
      intercept().reply(200, completionBody()).delay(1_000);

      // Act
      const started = Date.now();
      const error = await failure(
        client({
          timeoutMs: 60_000,
          remainingMs: () => 15_080,
          reserveMs: 15_000,
          minAttemptMs: 10,
          maxAttempts: 1,
        }).complete(params),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiTimeoutError', kind: 'unavailable' });
      expect(error.message).toBe('xAI request timed out after 80 ms');
      expect(Date.now() - started).toBeLessThan(900);
    });

    it('does not start an attempt when too little time is left', async () => {
      // Act
      const error = await failure(
        client({ remainingMs: () => 16_000, reserveMs: 15_000, minAttemptMs: 2_000 }).complete(
          params,
        ),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiTimeoutError', kind: 'unavailable' });
      expect(error.kind).toBe('unavailable');
      expect(error.message).toBe(
        'not enough invocation time left for an xAI attempt (1000 ms < 2000 ms)',
      );
    });
  });

  describe('response', () => {
    it('throws XaiTruncatedError with the usage on finish_reason length, without retrying', async () => {
      // Prepare
      intercept().reply(
        200,
        completionBody({ content: '{"scores":[{"tick', finish_reason: 'length' }),
      );

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiTruncatedError', kind: 'truncated' });
      expect(error.kind).not.toBe('unavailable');
      expect(error.usage?.costInUsdTicks).toBe(17_250_000);
      expect(error.responseId).toBe('resp-1');
      expect(sleeps).toEqual([]);
    });

    it('throws XaiRefusalError on a non-empty refusal', async () => {
      // Prepare
      intercept().reply(
        200,
        completionBody({ content: null, refusal: "I'm sorry, I can't help with that." }),
      );

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiRefusalError', kind: 'refusal' });
      expect(error.message).toBe("xAI model refused to answer: I'm sorry, I can't help with that.");
    });

    it('ignores an empty refusal string', async () => {
      // Prepare
      intercept().reply(200, completionBody({ refusal: '' }));

      // Act
      const result = await client().complete(params);

      // Assess
      expect(result.content).toBe('{"scores":[]}');
    });

    it.each([
      ['a non-JSON body', 'not json', 'xAI returned a non-JSON 2xx body: not json'],
      [
        'no choices',
        { ...completionBody(), choices: [] },
        'xAI response is not a chat completion (choices: ',
      ],
      [
        'no usage',
        { ...completionBody(), usage: undefined },
        'xAI response is not a chat completion (usage: ',
      ],
      ['empty content', completionBody({ content: '' }), 'xAI answer content is empty'],
      [
        'finish_reason tool_calls',
        completionBody({ finish_reason: 'tool_calls' }),
        'xAI finish_reason is "tool_calls", expected "stop"',
      ],
    ])('throws XaiBadResponseError on %s', async (_label, body, message) => {
      // Prepare
      intercept().reply(200, typeof body === 'string' ? body : JSON.stringify(body));

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadResponseError', kind: 'bad-response' });
      expect(error.message.startsWith(message)).toBe(true);
      expect(sleeps).toEqual([]);
    });
  });

  describe('response size bound', () => {
    /** A completion body padded with trailing spaces to exactly `bytes`. */
    const bodyOf = (bytes: number) => {
      const text = JSON.stringify(completionBody());
      return text + ' '.repeat(bytes - Buffer.byteLength(text));
    };

    it(`reads a body of exactly ${MAX_XAI_RESPONSE_BYTES} bytes`, async () => {
      // Prepare
      intercept().reply(200, bodyOf(MAX_XAI_RESPONSE_BYTES));

      // Act
      const result = await client().complete(params);

      // Assess
      expect(result.content).toBe('{"scores":[]}');
    });

    it('cuts off a body that runs one byte past the limit, as a bad response, without retrying', async () => {
      // Prepare
      intercept().reply(200, bodyOf(MAX_XAI_RESPONSE_BYTES + 1));

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadResponseError', kind: 'bad-response' });
      expect(error.message).toBe(
        'xAI response body ran past the limit of 1,048,576 bytes (MAX_XAI_RESPONSE_BYTES); it was not read further and nothing was stored',
      );
      expect(sleeps).toEqual([]);
    });

    it('refuses a body whose content-length is over the limit without reading it', async () => {
      // Prepare
      intercept().reply(200, JSON.stringify(completionBody()), {
        headers: { 'content-length': String(MAX_XAI_RESPONSE_BYTES + 1) },
      });

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadResponseError', kind: 'bad-response' });
      expect(error.message).toContain('declares 1,048,577 bytes, over the limit of 1,048,576');
    });

    it('still classifies an oversized error body by its status', async () => {
      // Prepare
      intercept().reply(400, 'x'.repeat(MAX_XAI_RESPONSE_BYTES + 10));

      // Act
      const error = await failure(client({ maxAttempts: 1 }).complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadRequestError', kind: 'bad-request' });
      expect(error.status).toBe(400);
    });
  });

  describe('secrecy', () => {
    it('never puts the key, or xAI’s masked echo of it, in an error message', async () => {
      // Prepare
      intercept().reply(400, {
        code: 'Client specified an invalid argument',
        error: `Incorrect API key provided: xa***ef. You can obtain an API key from https://console.x.ai. (key ${API_KEY})`,
      });

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.message).not.toContain(API_KEY);
      expect(error.message).not.toContain('xa***ef');
      expect(error.message).toContain('Incorrect API key provided: [redacted]');
      expect(JSON.stringify(error)).not.toContain(API_KEY);
    });

    it('keeps the key out of retry log lines and network errors', async () => {
      // Prepare
      intercept().replyWithError(new Error(`proxy rejected Authorization: Bearer ${API_KEY}`));
      intercept().reply(503, { code: 'x', error: `echo ${encodeURIComponent(API_KEY)}` });
      intercept().reply(500, { code: 'x', error: 'boom' });

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.message).not.toContain(API_KEY);
      expect(JSON.stringify(warnings)).not.toContain(API_KEY);
      expect(JSON.stringify(warnings)).not.toContain('SECRET');
    });

    it('redacts the key from a transport error message', async () => {
      // Prepare
      intercept().replyWithError(new Error(`proxy rejected Authorization: Bearer ${API_KEY}`));

      // Act
      const error = await failure(client({ maxAttempts: 1 }).complete(params));

      // Assess
      expect(error).toMatchObject({ name: 'XaiNetworkError', kind: 'unavailable' });
      expect(error.message).toBe(
        'xAI request failed: proxy rejected Authorization: Bearer [redacted]',
      );
    });

    it('redacts the key from a refusal echoed back by the model', async () => {
      // Prepare
      intercept().reply(
        200,
        completionBody({ content: null, refusal: `I will not reveal ${API_KEY}` }),
      );

      // Act
      const error = await failure(client().complete(params));

      // Assess
      expect(error.message).toBe('xAI model refused to answer: I will not reveal [redacted]');
    });
  });
  describe('the kind each failure carries', () => {
    it.each([
      [503, { error: 'overloaded' }, 'unavailable'],
      [401, { error: 'Incorrect API key provided: xai-***' }, 'auth'],
      [429, { error: CREDITS_MESSAGE }, 'credits-exhausted'],
      [422, { error: 'bad schema' }, 'bad-request'],
    ])('reads HTTP %i as the kind the error carries', async (status, body, kind) => {
      // Prepare
      intercept().reply(status, body);

      // Act
      const error = await failure(client({ maxAttempts: 1 }).complete(params));

      // Assess: an upstream failure the analysis reads the kind off, with nothing billed.
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ kind, status, usage: undefined });
    });

    it('keeps the usage of a billed answer where the analysis reads it (the port contract)', async () => {
      // Prepare
      intercept().reply(200, completionBody({ finish_reason: 'length' }));

      // Act
      const error: unknown = await failure(client().complete(params));

      // Assess
      expect(isCompletionFailure(error)).toBe(true);
      expect(isCompletionFailure(error) && error.usage).toMatchObject({ completionTokens: 120 });
      expect(error).toMatchObject({ kind: 'truncated' });
      expect(isCompletionFailure(new TypeError('x'))).toBe(false);
    });
  });
});
