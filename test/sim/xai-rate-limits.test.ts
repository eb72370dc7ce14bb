import { createXaiClient, XaiError } from '../../lambdas/analysis/adapters/xai-client';
import { startXaiSimulator, type XaiSimulator } from '../../sim/xai-simulator';
import { XaiRateWindow } from '../../sim/xai-rate-window';

/**
 * The xAI simulator enforcing requests and tokens per minute with xAI's 429 body and a
 * Retry-After, read by the real xAI client (issue 17: 429 pacing). The window runs on a
 * test clock, never the real date.
 */
const API_KEY = 'xai-sim-key-0123456789';
const T0 = Date.UTC(2026, 10, 17, 6, 0, 0);
const params = {
  system: 'Score the holdings.',
  user: 'Holdings (JSON): [{"ticker":"NVDA","price":181.2,"rsi":72.4,"ma50":170.1}]',
  schema: { type: 'object' },
  schemaName: 'portfolio_scores',
  maxCompletionTokens: 1_000,
  temperature: 0,
};

describe('xAI simulator rate limits', () => {
  let sim: XaiSimulator;
  let clock: number;
  const sleeps: number[] = [];
  const client = (remainingMs: number) =>
    createXaiClient({
      url: sim.url,
      apiKey: () => Promise.resolve(API_KEY),
      model: 'grok-4.3',
      timeoutMs: 5_000,
      maxAttempts: 3,
      random: () => 0,
      remainingMs: () => remainingMs,
      reserveMs: 0,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });

  beforeEach(async () => {
    clock = T0;
    sleeps.length = 0;
    sim = await startXaiSimulator({
      apiKey: API_KEY,
      limits: { requestsPerMinute: 2, tokensPerMinute: 1_000_000 },
      now: () => clock,
    });
  });
  afterEach(() => sim.close());

  it('answers the request over the RPM with 429, xAI body and Retry-After; the client gives up when it has no time', async () => {
    // Prepare
    const c = client(30_000);
    await c.complete(params);
    await c.complete(params);

    // Act
    const error = await c.complete(params).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(XaiError);
    expect(error).toMatchObject({
      name: 'XaiRateLimitedError',
      status: 429,
      retryAfterMs: 60_000,
      code: 'Some resource has been exhausted',
    });
    expect((error as Error).message).toMatch(/exceeded its requests per minute/);
  });

  it('waits out the Retry-After within the invocation time and then succeeds', async () => {
    // Prepare
    const c = client(170_000);
    await c.complete(params);
    clock += 10_000;
    await c.complete(params);

    // Act
    const answer = await c.complete(params);

    // Assess: the first request leaves the window 60 s after it was sent
    expect(answer.attempts).toBe(2);
    expect(sleeps).toEqual([50_000]);
  });
});

describe('XaiRateWindow', () => {
  it('refuses over the token limit and frees the tokens as the window moves', () => {
    // Prepare
    const w = new XaiRateWindow({ requestsPerMinute: 100, tokensPerMinute: 10_000 });

    // Act / Assess
    expect(w.admit(T0, 6_000)).toEqual({ ok: true });
    expect(w.admit(T0 + 20_000, 6_000)).toEqual({ ok: false, limit: 'tpm', retryAfterSeconds: 40 });
    expect(w.admit(T0 + 60_000, 6_000)).toEqual({ ok: true });
  });
});
