import { syntheticAgg } from '../../sim/polygon-simulator';
import { request } from 'undici';
import {
  createXaiClient,
  XaiError,
  type XaiClientOptions,
} from '../../lambdas/analysis/adapters/xai-client';
import { parseAnalysisAnswer } from '../../lambdas/analysis/domain/answer';
import {
  ANALYSIS_SCHEMA_NAME,
  analysisResponseSchema,
  buildAnalysisPrompt,
} from '../../lambdas/analysis/domain/prompt';
import {
  simulatedForwardReturn,
  startXaiSimulator,
  USD_TICKS,
  XAI_PRICES_USD_PER_MILLION,
  type XaiSimulator,
} from '../../sim/xai-simulator';

const API_KEY = 'xai-sim-key-0123456789';
const MODEL = 'grok-4.3';

const prompt = buildAnalysisPrompt({
  portfolioName: 'ZSM Seven',
  holdings: [
    {
      ticker: 'NVDA',
      price: 181.2,
      rsi: 72.4,
      ma50: 170.1,
      asOf: '2026-11-20',
      weightPercent: 41.2,
      plPercent: 63.5,
    },
    {
      ticker: 'AAPL',
      price: 228.5,
      rsi: 50,
      ma50: 227.9,
      asOf: '2026-11-19',
      weightPercent: 30,
      plPercent: -2,
    },
    {
      ticker: 'INTC',
      price: 18,
      rsi: 24,
      ma50: 22,
      asOf: '2026-11-20',
      weightPercent: 28.8,
      plPercent: -40,
    },
  ],
  missing: ['XYZ'],
  dataAsOf: '2026-11-20',
  stale: ['AAPL'],
});

const completeParams = {
  system: prompt.system,
  user: prompt.user,
  schema: analysisResponseSchema(prompt.tickersToScore),
  schemaName: ANALYSIS_SCHEMA_NAME,
  maxCompletionTokens: 4000,
  temperature: 0,
};

describe('xAI simulator', () => {
  let sim: XaiSimulator;
  let sleeps: number[];

  beforeEach(async () => {
    sim = await startXaiSimulator({ apiKey: API_KEY });
    sleeps = [];
  });

  afterEach(async () => {
    await sim.close();
  });

  function client(overrides: Partial<XaiClientOptions> = {}) {
    return createXaiClient({
      url: sim.url,
      apiKey: () => Promise.resolve(API_KEY),
      model: MODEL,
      timeoutMs: 5_000,
      maxAttempts: 3,
      random: () => 0.5,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      ...overrides,
    });
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

  async function post(
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` },
  ) {
    const response = await request(sim.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.statusCode,
      body: (await response.body.json()) as Record<string, unknown>,
    };
  }

  const validBody = {
    model: MODEL,
    messages: [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
    ],
  };

  describe("mode 'ok'", () => {
    it('answers with schema-conforming, deterministic scores that pass parseAnalysisAnswer', async () => {
      // Act
      const completion = await client().complete(completeParams);
      const parsed = parseAnalysisAnswer(completion.content, prompt.tickersToScore);

      // Assess
      expect(completion.model).toBe(MODEL);
      expect(completion.finishReason).toBe('stop');
      expect(parsed).toEqual({
        ok: true,
        warnings: [],
        scores: [
          {
            ticker: 'NVDA',
            score: -7.8,
            reason: 'Simulated: RSI 72.4 is overbought; price is 6.5% above MA50.',
          },
          {
            ticker: 'AAPL',
            score: 0,
            reason: 'Simulated: RSI 50.0 is neutral; price is near MA50.',
          },
          {
            ticker: 'INTC',
            score: 10,
            reason: 'Simulated: RSI 24.0 is oversold; price is 18.2% below MA50.',
          },
        ],
      });
    });

    it('records the request body as xAI received it', async () => {
      // Act
      await client().complete(completeParams);

      // Assess
      expect(sim.requests).toHaveLength(1);
      const [body] = sim.requests;
      expect(body).toMatchObject({
        model: MODEL,
        temperature: 0,
        max_completion_tokens: 4000,
        response_format: {
          type: 'json_schema',
          json_schema: { name: ANALYSIS_SCHEMA_NAME, strict: true },
        },
      });
      for (const forbidden of ['stop', 'presence_penalty', 'frequency_penalty', 'max_tokens']) {
        expect(body).not.toHaveProperty(forbidden);
      }
    });

    it('reports token usage and prices it from the list price table', async () => {
      // Prepare
      const price = XAI_PRICES_USD_PER_MILLION[MODEL];
      const perToken = (usdPerMillion: number) => (usdPerMillion * USD_TICKS) / 1_000_000;

      // Act
      const { usage } = await client().complete(completeParams);

      // Assess
      expect(usage.promptTokens).toBeGreaterThan(500);
      expect(usage.cachedPromptTokens).toBe(0);
      expect(usage.reasoningTokens).toBe(120 + 40 * 3);
      expect(usage.totalTokens).toBe(
        usage.promptTokens + usage.completionTokens + (usage.reasoningTokens ?? 0),
      );
      expect(usage.costInUsdTicks).toBe(
        usage.promptTokens * perToken(price.input) +
          (usage.completionTokens + (usage.reasoningTokens ?? 0)) * perToken(price.output),
      );
    });

    it('bills the repeated system prompt as cached on the next request', async () => {
      // Act
      const first = await client().complete(completeParams);
      const second = await client().complete(completeParams);

      // Assess
      expect(second.usage.cachedPromptTokens).toBe(Math.ceil(prompt.system.length / 4));
      expect(second.usage.costInUsdTicks).toBeLessThan(first.usage.costInUsdTicks ?? 0);
    });
  });

  describe('answer modes', () => {
    it("wraps the answer in a ```json fence in mode 'fenced', which still parses", async () => {
      // Prepare
      sim.setMode('fenced');

      // Act
      const completion = await client().complete(completeParams);
      const parsed = parseAnalysisAnswer(completion.content, prompt.tickersToScore);

      // Assess
      expect(completion.content).toMatch(/^Here is the analysis:\n```json\n/);
      expect(parsed.ok).toBe(true);
    });

    it("returns a score of 15 in mode 'out-of-range', which parseAnalysisAnswer rejects", async () => {
      // Prepare
      sim.setMode('out-of-range');

      // Act
      const completion = await client().complete(completeParams);
      const parsed = parseAnalysisAnswer(completion.content, prompt.tickersToScore);

      // Assess
      expect(parsed).toEqual({
        ok: false,
        error: 'answer rejected: entry 1 (NVDA): score 15 is outside -10…10',
      });
    });

    it("drops a holding in mode 'missing-holding', which parseAnalysisAnswer rejects", async () => {
      // Prepare
      sim.setMode('missing-holding');

      // Act
      const completion = await client().complete(completeParams);
      const parsed = parseAnalysisAnswer(completion.content, prompt.tickersToScore);

      // Assess
      expect(parsed).toEqual({ ok: false, error: 'answer rejected: missing scores for INTC' });
    });

    it("cuts the answer with finish_reason length in mode 'truncated'", async () => {
      // Prepare
      sim.setMode('truncated');

      // Act
      const error = await failure(client().complete(completeParams));

      // Assess
      expect(error).toMatchObject({ name: 'XaiTruncatedError', kind: 'truncated' });
      expect(error.usage?.costInUsdTicks).toBeGreaterThan(0);
      expect(sim.requests).toHaveLength(1);
    });

    it("refuses in mode 'refusal'", async () => {
      // Prepare
      sim.setMode('refusal');

      // Act
      const error = await failure(client().complete(completeParams));

      // Assess
      expect(error).toMatchObject({ name: 'XaiRefusalError', kind: 'refusal' });
      expect(sim.requests).toHaveLength(1);
    });
  });

  describe('failure modes', () => {
    it("answers 429 in mode 'rate-limited' and the client retries until it gives up", async () => {
      // Prepare
      sim.setMode('rate-limited');

      // Act
      const error = await failure(client().complete(completeParams));

      // Assess
      expect(error).toMatchObject({ name: 'XaiRateLimitedError', kind: 'unavailable' });
      expect(error.status).toBe(429);
      expect(sim.requests).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });

    it('rate-limits only the next N requests and sends Retry-After when asked', async () => {
      // Prepare
      sim.setMode('rate-limited', { times: 2, retryAfterSeconds: 3 });

      // Act
      const completion = await client().complete(completeParams);

      // Assess
      expect(completion.attempts).toBe(3);
      expect(sleeps).toEqual([3000, 3000]);
    });

    it("answers 429 with xAI's credits body in mode 'credits-exhausted', which is not retried", async () => {
      // Prepare
      sim.setMode('credits-exhausted');

      // Act
      const error = await failure(client().complete(completeParams));

      // Assess
      expect(error).toMatchObject({ name: 'XaiCreditsExhaustedError', kind: 'credits-exhausted' });
      expect(error.message).toContain(
        'used all available credits or reached its monthly spending limit',
      );
      expect(sim.requests).toHaveLength(1);
    });

    it.each([
      ['server-error', 500],
      ['overloaded', 529],
    ] as const)('answers %s with %d, retried as a server error', async (mode, status) => {
      // Prepare
      sim.setMode(mode, { times: 1 });

      // Act
      const completion = await client().complete(completeParams);

      // Assess
      expect(completion.attempts).toBe(2);
      sim.setMode(mode);
      const error = await failure(client({ maxAttempts: 1 }).complete(completeParams));
      expect(error).toMatchObject({ name: 'XaiServerError', kind: 'unavailable' });
      expect(error.status).toBe(status);
    });

    it("delays the answer in mode 'slow', so a short client timeout fires and the retry succeeds", async () => {
      // Prepare
      sim.setMode('slow', { times: 1, delayMs: 1_000 });

      // Act
      const started = Date.now();
      const completion = await client({ timeoutMs: 100, minAttemptMs: 10 }).complete(
        completeParams,
      );

      // Assess
      expect(completion.attempts).toBe(2);
      expect(Date.now() - started).toBeLessThan(900);
    });

    it("answers in mode 'slow' when the client waits long enough", async () => {
      // Prepare
      sim.setMode('slow', { delayMs: 50 });

      // Act
      const completion = await client().complete(completeParams);

      // Assess
      expect(completion.attempts).toBe(1);
    });

    it('times out every attempt when the simulator stays slow', async () => {
      // Prepare
      sim.setMode('slow', { delayMs: 1_000 });

      // Act
      const error = await failure(
        client({ timeoutMs: 50, minAttemptMs: 10, maxAttempts: 2 }).complete(completeParams),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiTimeoutError', kind: 'unavailable' });
    });

    it('applies the failures given at start, in order, then answers ok', async () => {
      // Prepare
      await sim.close();
      sim = await startXaiSimulator({
        apiKey: API_KEY,
        failures: [{ mode: 'overloaded' }, { mode: 'rate-limited', times: 1 }],
      });

      // Act
      const completion = await client().complete(completeParams);

      // Assess
      expect(completion.attempts).toBe(3);
    });

    it('returns to the standing mode after a counted mode', async () => {
      // Prepare
      sim.setMode('fenced');
      sim.setMode('ok', { times: 1 });

      // Act
      const first = await client().complete(completeParams);
      const second = await client().complete(completeParams);

      // Assess
      expect(first.content.startsWith('{')).toBe(true);
      expect(second.content).toContain('```json');
    });
  });

  describe('request validation', () => {
    it("answers a wrong key with xAI's 400 body, which the client maps to XaiAuthError without the key", async () => {
      // Act
      const error = await failure(
        client({ apiKey: () => Promise.resolve('xai-wrong-key-987') }).complete(completeParams),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiAuthError', kind: 'auth' });
      expect(error.status).toBe(400);
      expect(error.code).toBe('Client specified an invalid argument');
      expect(error.message).not.toContain('xai-wrong-key-987');
      expect(error.message).not.toContain('xa***87');
    });

    it('answers 400 with the masked key, like xAI', async () => {
      // Act
      const response = await post(validBody, { authorization: 'Bearer xai-wrong-key-987' });

      // Assess
      expect(response).toEqual({
        status: 400,
        body: {
          code: 'Client specified an invalid argument',
          error:
            'Incorrect API key provided: xa***87. You can obtain an API key from https://console.x.ai.',
        },
      });
    });

    it('answers 401 without an Authorization header', async () => {
      // Act
      const response = await post(validBody, {});

      // Assess
      expect(response.status).toBe(401);
    });

    it.each(['stop', 'presence_penalty', 'frequency_penalty'])(
      'rejects %s for a reasoning model with 400',
      async (param) => {
        // Act
        const response = await post({ ...validBody, [param]: param === 'stop' ? ['\n'] : 0.5 });

        // Assess
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('Client specified an invalid argument');
        expect(response.body.error).toMatch(/^Model grok-4.3 does not support parameter /);
      },
    );

    it('accepts stop for a non-reasoning model', async () => {
      // Act
      const response = await post({ ...validBody, model: 'grok-4.20-non-reasoning', stop: ['\n'] });

      // Assess
      expect(response.status).toBe(200);
    });

    it.each([
      ['model', { messages: validBody.messages }],
      ['messages', { model: MODEL }],
      ['messages (empty)', { model: MODEL, messages: [] }],
    ])('rejects a missing %s with 400', async (_label, body) => {
      // Act
      const response = await post(body);

      // Assess
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/^Missing required field: /);
    });

    it('answers 404 for a retired model id, which the client maps to XaiBadRequestError', async () => {
      // Act
      const error = await failure(
        client({ model: 'grok-4-1-fast-reasoning' }).complete(completeParams),
      );

      // Assess
      expect(error).toMatchObject({ name: 'XaiBadRequestError', kind: 'bad-request' });
      expect(error.status).toBe(404);
      expect(sim.requests).toHaveLength(1);
    });

    it('does not count invalid requests against a counted mode', async () => {
      // Prepare
      sim.setMode('rate-limited', { times: 1 });
      await post({ model: MODEL });

      // Act
      const error = await failure(client({ maxAttempts: 1 }).complete(completeParams));

      // Assess
      expect(error).toMatchObject({ name: 'XaiRateLimitedError', kind: 'unavailable' });
    });
  });
});

describe('simulatedForwardReturn (the track-record signal)', () => {
  it('is the Polygon simulator’s return over the next sessions, skipping weekends and holidays', () => {
    // 5 sessions after Friday 2026-11-20 is Monday 2026-11-30 (Thanksgiving closed).
    const expected =
      syntheticAgg('NVDA', '2026-11-30').c / syntheticAgg('NVDA', '2026-11-20').c - 1;
    expect(simulatedForwardReturn('NVDA', '2026-11-20', 5)).toBeCloseTo(expected, 12);
    expect(simulatedForwardReturn('NVDA', undefined, 5)).toBeUndefined();
    expect(simulatedForwardReturn('NVDA', 'yesterday', 5)).toBeUndefined();
  });
});
