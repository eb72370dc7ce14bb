import { MockAgent } from 'undici';
import {
  createPolygonClient,
  PolygonError,
  type PolygonAttemptInfo,
  type PolygonClientOptions,
} from '../../../../lambdas/market-data/adapters/polygon-client';
import { BudgetExhaustedError } from '../../../../lambdas/market-data/adapters/request-budget';
import { errorText } from '../../../../lambdas/platform/text';
import { UpstreamError } from '../../../../lambdas/platform/upstream-error';

const BASE = 'https://api.polygon.io';
const KEY = 'pk_live_Zq81SECRETkey4f9a';
const AUTH = { authorization: `Bearer ${KEY}` };
const GROUPED_PATH = '/v2/aggs/grouped/locale/us/market/stocks/2024-03-08?adjusted=true';
const RANGE_PATH =
  '/v2/aggs/ticker/NVDA/range/1/day/2024-03-08/2024-03-12?adjusted=true&sort=asc&limit=5000';
const CLOSE_2024_03_08 = Date.UTC(2024, 2, 8, 21);
const START_2024_03_08 = Date.UTC(2024, 2, 8, 5);
const START_2024_03_11 = Date.UTC(2024, 2, 11, 4);
const START_2024_03_12 = Date.UTC(2024, 2, 12, 4);

const agg = (t: number, close = 100) => ({
  v: 1.029145e6,
  vw: close - 0.5,
  o: close - 1,
  c: close,
  h: close + 1,
  l: close - 2,
  t,
  n: 6966,
});
const rangeBody = (results: unknown[], extra: Record<string, unknown> = {}) => ({
  ticker: 'NVDA',
  queryCount: results.length,
  resultsCount: results.length,
  adjusted: true,
  results,
  status: 'OK',
  request_id: 'req-range',
  ...extra,
});

let agent: MockAgent;
let sleeps: number[];
let logLines: string[];

function makeClient(overrides: Partial<PolygonClientOptions> = {}) {
  return createPolygonClient({
    baseUrl: BASE,
    apiKey: () => Promise.resolve(KEY),
    dispatcher: agent,
    timeoutMs: 1_000,
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    logger: {
      warn: (message, ...attributes) =>
        logLines.push(`WARN ${message} ${JSON.stringify(attributes)}`),
      debug: (message, ...attributes) =>
        logLines.push(`DEBUG ${message} ${JSON.stringify(attributes)}`),
    },
    ...overrides,
  });
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  sleeps = [];
  logLines = [];
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

describe('createPolygonClient', () => {
  describe('groupedDaily', () => {
    it('maps every row to a bar dated by its New York session, sending the key only as a bearer token', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH, headers: AUTH })
        .reply(200, {
          queryCount: 2,
          resultsCount: 2,
          adjusted: true,
          results: [
            { T: 'NVDA', ...agg(CLOSE_2024_03_08, 875.28) },
            { T: 'AAPL', v: 100, o: 1, h: 2, l: 0.5, c: 1.5, t: CLOSE_2024_03_08 },
          ],
          status: 'OK',
          request_id: 'req-1',
          count: 2,
        });
      const client = makeClient();

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([
        {
          ticker: 'NVDA',
          session: '2024-03-08',
          open: 874.28,
          high: 876.28,
          low: 873.28,
          close: 875.28,
          volume: 1029145,
          vwap: 874.78,
          trades: 6966,
          t: CLOSE_2024_03_08,
        },
        {
          ticker: 'AAPL',
          session: '2024-03-08',
          open: 1,
          high: 2,
          low: 0.5,
          close: 1.5,
          volume: 100,
          t: CLOSE_2024_03_08,
        },
      ]);
    });

    it('returns no bars for the empty-result shape without a results key', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(200, {
        queryCount: 0,
        resultsCount: 0,
        adjusted: true,
        status: 'OK',
        request_id: 'req-empty',
      });
      const client = makeClient();

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([]);
    });

    it('resolves the key before taking the permit, and hands the permit taker the key', async () => {
      // Prepare: a slow secret fetch; the order of key, permit and request is recorded.
      const order: string[] = [];
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH, headers: AUTH })
        .reply(() => {
          order.push('request');
          return { statusCode: 200, data: { status: 'OK', resultsCount: 0, request_id: 'r' } };
        });
      const client = makeClient({
        apiKey: async () => {
          await new Promise((r) => setTimeout(r, 20));
          order.push('key');
          return KEY;
        },
        beforeAttempt: (key) => {
          order.push(`permit:${key === KEY}`);
          return Promise.resolve();
        },
      });

      // Act
      await client.groupedDaily('2024-03-08');

      // Assess: the permit is taken after the key resolved, right before the request.
      expect(order.slice(0, 2)).toEqual(['key', 'permit:true']);
      expect(order.at(-1)).toBe('request');
      expect(order.indexOf('permit:true')).toBeLessThan(order.indexOf('request'));
    });

    it('skips rows of an unexpected shape and warns with the count', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH })
        .reply(200, {
          resultsCount: 3,
          results: [
            { T: 'NVDA', ...agg(CLOSE_2024_03_08) },
            { T: 'BAD', o: 'x' },
            agg(CLOSE_2024_03_08),
          ],
          status: 'OK',
        });
      const client = makeClient();

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars.map((b) => b.ticker)).toEqual(['NVDA']);
      expect(logLines.some((l) => l.startsWith('WARN') && l.includes('"skipped":2'))).toBe(true);
    });

    it('rejects a date that is not YYYY-MM-DD without calling Polygon', async () => {
      // Prepare
      const client = makeClient();

      // Act
      const err = await caught(client.groupedDaily('2024-3-8'));

      // Assess
      expect(err).toBeInstanceOf(RangeError);
    });
  });

  describe('dailyRange', () => {
    it('maps bars whose t is the New York session start to that session, across a DST change', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: RANGE_PATH, headers: AUTH })
        .reply(
          200,
          rangeBody([
            agg(START_2024_03_08, 10),
            agg(START_2024_03_11, 11),
            agg(START_2024_03_12, 12),
          ]),
        );
      const client = makeClient();

      // Act
      const bars = await client.dailyRange('NVDA', '2024-03-08', '2024-03-12');

      // Assess
      expect(bars.map((b) => [b.ticker, b.session, b.close])).toEqual([
        ['NVDA', '2024-03-08', 10],
        ['NVDA', '2024-03-11', 11],
        ['NVDA', '2024-03-12', 12],
      ]);
    });

    it('follows next_url pages with the apiKey parameter stripped and the bearer token kept', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool.intercept({ path: RANGE_PATH, headers: AUTH }).reply(
        200,
        rangeBody([agg(START_2024_03_08)], {
          next_url: `${BASE}/v2/aggs/ticker/NVDA/range/1/day/1710129600000/2024-03-12?cursor=p2&apiKey=${KEY}`,
        }),
      );
      pool
        .intercept({
          path: '/v2/aggs/ticker/NVDA/range/1/day/1710129600000/2024-03-12?cursor=p2',
          headers: AUTH,
        })
        .reply(
          200,
          rangeBody([agg(START_2024_03_11)], {
            next_url: `https://api.massive.com/v2/aggs/ticker/NVDA/range/1/day/1710216000000/2024-03-12?cursor=p3&APIKEY=${KEY}`,
          }),
        );
      pool
        .intercept({
          path: '/v2/aggs/ticker/NVDA/range/1/day/1710216000000/2024-03-12?cursor=p3',
          headers: AUTH,
        })
        .reply(200, rangeBody([agg(START_2024_03_12)]));
      const beforeAttempt = jest.fn(() => Promise.resolve());
      const client = makeClient({ beforeAttempt });

      // Act
      const bars = await client.dailyRange('NVDA', '2024-03-08', '2024-03-12');

      // Assess
      expect(bars.map((b) => b.session)).toEqual(['2024-03-08', '2024-03-11', '2024-03-12']);
      expect(beforeAttempt).toHaveBeenCalledTimes(3);
      expect(logLines.join('\n')).not.toContain(KEY);
    });

    it('fails with a bad-response error when next_url repeats a page', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: RANGE_PATH })
        .reply(200, rangeBody([agg(START_2024_03_08)], { next_url: `${BASE}${RANGE_PATH}` }));
      const client = makeClient();

      // Act
      const err = await caught(client.dailyRange('NVDA', '2024-03-08', '2024-03-12'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonBadResponseError', kind: 'bad-response' });
    });

    it('returns no bars for the empty-result shape', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: RANGE_PATH }).reply(200, {
        ticker: 'NVDA',
        queryCount: 0,
        resultsCount: 0,
        adjusted: true,
        status: 'OK',
        request_id: 'r',
      });
      const client = makeClient();

      // Act
      const bars = await client.dailyRange('NVDA', '2024-03-08', '2024-03-12');

      // Assess
      expect(bars).toEqual([]);
    });

    it('retries a 200 whose body is not JSON (cut off in transfer) and returns the next answer', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: RANGE_PATH })
        .reply(200, '{"status":"OK","results":[{"o":1');
      agent
        .get(BASE)
        .intercept({ path: RANGE_PATH })
        .reply(200, JSON.stringify(rangeBody([agg(START_2024_03_08)])));
      const client = makeClient();

      // Act
      const bars = await client.dailyRange('NVDA', '2024-03-08', '2024-03-12');

      // Assess
      expect(bars).toHaveLength(1);
      expect(sleeps).toHaveLength(1);
    });

    it('fails as a network error (the job defers) when every body is unreadable', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: RANGE_PATH }).reply(200, '<html>gateway</html>').times(3);
      const client = makeClient({ maxAttempts: 3 });

      // Act
      const err = await caught(client.dailyRange('NVDA', '2024-03-08', '2024-03-12'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonUnreadableBodyError', kind: 'network' });
      expect(err.message).toContain('not JSON');
      expect(err.message).not.toContain('gateway');
    });

    it.each([
      [
        'a bar with a non-numeric price',
        JSON.stringify(rangeBody([{ ...agg(START_2024_03_08), c: '12.5' }])),
      ],
      [
        'a count without results',
        JSON.stringify({ ticker: 'NVDA', resultsCount: 2, status: 'OK' }),
      ],
      ['an error status in a 200', JSON.stringify({ status: 'ERROR', error: 'oops' })],
    ])('fails with a bad-response error, without retrying, on %s', async (_case, body) => {
      // Prepare
      agent.get(BASE).intercept({ path: RANGE_PATH }).reply(200, body);
      const client = makeClient();

      // Act
      const err = await caught(client.dailyRange('NVDA', '2024-03-08', '2024-03-12'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonBadResponseError', kind: 'bad-response' });
      expect(err.name).toBe('PolygonBadResponseError');
      expect(sleeps).toEqual([]);
    });
  });

  describe('errors', () => {
    it.each([
      [
        401,
        { status: 'ERROR', request_id: 'r1', error: 'Unknown API Key' },
        'PolygonAuthError',
        'auth',
        'Unknown API Key',
      ],
      [
        403,
        {
          status: 'NOT_AUTHORIZED',
          request_id: 'r2',
          message:
            "Your plan doesn't include this data timeframe. Please upgrade your plan at https://polygon.io/pricing",
        },
        'PolygonNotAvailableError',
        'not-available',
        "Your plan doesn't include this data timeframe",
      ],
      [
        400,
        { status: 'ERROR', request_id: 'r3', error: 'Could not parse the date' },
        'PolygonRequestError',
        'other',
        'Could not parse the date',
      ],
      [
        404,
        { status: 'NOT_FOUND', request_id: 'r4', message: 'Not found' },
        'PolygonRequestError',
        'other',
        'Not found',
      ],
    ])(
      'maps HTTP %i to a typed error and does not retry',
      async (status, body, name, kind, text) => {
        // Prepare
        agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(status, body);
        const beforeAttempt = jest.fn(() => Promise.resolve());
        const client = makeClient({ beforeAttempt });

        // Act
        const err = await caught(client.groupedDaily('2024-03-08'));

        // Assess
        expect(err).toBeInstanceOf(PolygonError);
        expect(err.name).toBe(name);
        expect((err as PolygonError).kind).toBe(kind);
        expect((err as PolygonError).status).toBe(status);
        expect((err as PolygonError).requestId).toBe(body.request_id);
        expect(err.message).toContain(text);
        expect(beforeAttempt).toHaveBeenCalledTimes(1);
        expect(sleeps).toEqual([]);
      },
    );

    it('gives up after maxAttempts server errors with a server error', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(502, 'Bad Gateway').times(3);
      const client = makeClient({ maxAttempts: 3 });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonServerError', kind: 'server' });
      expect((err as PolygonError).status).toBe(502);
      expect(sleeps).toHaveLength(2);
    });

    it('reads an empty 429 body as a rate-limited error', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(429, '');
      const client = makeClient({ maxAttempts: 1 });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonRateLimitedError', kind: 'rate-limited' });
      expect((err as PolygonError).retryAfterMs).toBeUndefined();
    });

    it('turns a timeout into a network error', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH })
        .reply(200, { status: 'OK', resultsCount: 0 })
        .delay(500);
      const client = makeClient({ timeoutMs: 30, maxAttempts: 1 });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonNetworkError', kind: 'network' });
      expect(err.message).toContain('timed out after 30 ms');
      expect((err as PolygonError).status).toBeUndefined();
    });
  });

  describe('retries', () => {
    it('retries 5xx with full-jitter exponential backoff and then succeeds', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool.intercept({ path: GROUPED_PATH }).reply(500, { status: 'ERROR', error: 'Internal' });
      pool.intercept({ path: GROUPED_PATH }).reply(503, '');
      pool.intercept({ path: GROUPED_PATH }).reply(504, '');
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const beforeAttempt = jest.fn(() => Promise.resolve());
      const responses: PolygonAttemptInfo[] = [];
      const client = makeClient({ beforeAttempt, onResponse: (info) => responses.push(info) });

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([]);
      expect(sleeps).toEqual([250, 500, 1000]);
      expect(beforeAttempt).toHaveBeenCalledTimes(4);
      expect(
        responses.map(({ endpoint, path, status, attempt }) => ({
          endpoint,
          path,
          status,
          attempt,
        })),
      ).toEqual([
        {
          endpoint: 'grouped',
          path: '/v2/aggs/grouped/locale/us/market/stocks/2024-03-08',
          status: 500,
          attempt: 1,
        },
        {
          endpoint: 'grouped',
          path: '/v2/aggs/grouped/locale/us/market/stocks/2024-03-08',
          status: 503,
          attempt: 2,
        },
        {
          endpoint: 'grouped',
          path: '/v2/aggs/grouped/locale/us/market/stocks/2024-03-08',
          status: 504,
          attempt: 3,
        },
        {
          endpoint: 'grouped',
          path: '/v2/aggs/grouped/locale/us/market/stocks/2024-03-08',
          status: 200,
          attempt: 4,
        },
      ]);
      expect(responses.every((r) => r.durationMs >= 0)).toBe(true);
    });

    it('caps the backoff ceiling', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(503, '').times(5);
      const client = makeClient({ maxAttempts: 5, random: () => 0.999, backoffCapMs: 1_500 });

      // Act
      await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(sleeps).toEqual([499, 999, 1498, 1498]);
    });

    it('retries network errors', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool
        .intercept({ path: GROUPED_PATH })
        .replyWithError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const responses: PolygonAttemptInfo[] = [];
      const client = makeClient({ onResponse: (info) => responses.push(info) });

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([]);
      expect(responses.map((r) => r.status)).toEqual([0, 200]);
    });

    it('waits at least the Retry-After seconds of a 429', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool
        .intercept({ path: GROUPED_PATH })
        .reply(
          429,
          { status: 'ERROR', error: "You've exceeded the maximum requests per minute" },
          { headers: { 'retry-after': '7' } },
        );
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const client = makeClient();

      // Act
      await client.groupedDaily('2024-03-08');

      // Assess
      expect(sleeps).toEqual([7_000]);
    });

    it('waits until a Retry-After HTTP date', async () => {
      // Prepare
      const now = Date.UTC(2026, 0, 5, 12, 0, 0);
      const pool = agent.get(BASE);
      pool
        .intercept({ path: GROUPED_PATH })
        .reply(429, '', { headers: { 'retry-after': new Date(now + 12_000).toUTCString() } });
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const client = makeClient({ now: () => now });

      // Act
      await client.groupedDaily('2024-03-08');

      // Assess
      expect(sleeps).toEqual([12_000]);
    });

    it('ends with the 429 when Retry-After exceeds maxRetryAfterMs', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH })
        .reply(429, '', { headers: { 'retry-after': '600' } });
      const client = makeClient({ maxRetryAfterMs: 60_000 });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonRateLimitedError', kind: 'rate-limited' });
      expect((err as PolygonError).retryAfterMs).toBe(600_000);
      expect(sleeps).toEqual([]);
    });
  });

  describe('remaining invocation time', () => {
    it('throws the last error instead of retrying when backoff plus an attempt would pass the margin', async () => {
      // Prepare
      agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(503, '');
      const client = makeClient({
        remainingMs: () => 3_000,
        remainingMarginMs: 2_000,
        timeoutMs: 1_000,
      });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonServerError', kind: 'server' });
      expect(sleeps).toEqual([]);
      expect(logLines.some((l) => l.includes('not enough invocation time left'))).toBe(true);
    });

    it('retries when there is room for the backoff and a full attempt', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool.intercept({ path: GROUPED_PATH }).reply(503, '');
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const client = makeClient({
        remainingMs: () => 3_250,
        remainingMarginMs: 2_000,
        timeoutMs: 1_000,
      });

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([]);
      expect(sleeps).toEqual([250]);
    });

    it('does not sleep through a Retry-After longer than the time left', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH })
        .reply(429, '', { headers: { 'retry-after': '30' } });
      const client = makeClient({ remainingMs: () => 20_000 });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonRateLimitedError', kind: 'rate-limited' });
      expect(sleeps).toEqual([]);
    });

    it('sends nothing and takes no permit when no time is left', async () => {
      // Prepare
      const beforeAttempt = jest.fn(() => Promise.resolve());
      const client = makeClient({
        remainingMs: () => 1_500,
        remainingMarginMs: 2_000,
        beforeAttempt,
      });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonNetworkError', kind: 'network' });
      expect(err.message).toContain('no time left');
      expect(beforeAttempt).not.toHaveBeenCalled();
    });
  });

  describe('beforeAttempt and apiKey', () => {
    it('propagates an error thrown by beforeAttempt unchanged and sends nothing', async () => {
      // Prepare
      const budgetError = new Error('Polygon budget exhausted');
      const client = makeClient({ beforeAttempt: () => Promise.reject(budgetError) });

      // Act
      const err = await caught(client.groupedDaily('2024-03-08'));

      // Assess
      expect(err).toBe(budgetError);
    });

    it('takes a permit before the retry too', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool.intercept({ path: GROUPED_PATH }).reply(429, '');
      pool.intercept({ path: GROUPED_PATH }).reply(200, { status: 'OK', resultsCount: 0 });
      const order: string[] = [];
      const client = makeClient({
        beforeAttempt: () => {
          order.push('permit');
          return Promise.resolve();
        },
        onResponse: (info) => order.push(`response ${info.status}`),
      });

      // Act
      await client.groupedDaily('2024-03-08');

      // Assess
      expect(order).toEqual(['permit', 'response 429', 'permit', 'response 200']);
    });

    it('resolves the key lazily, at the first request', async () => {
      // Prepare
      agent
        .get(BASE)
        .intercept({ path: GROUPED_PATH, headers: AUTH })
        .reply(200, { status: 'OK', resultsCount: 0 });
      const apiKey = jest.fn(() => Promise.resolve(KEY));

      // Act
      const client = makeClient({ apiKey });
      const calledAtConstruction = apiKey.mock.calls.length;
      await client.groupedDaily('2024-03-08');

      // Assess
      expect(calledAtConstruction).toBe(0);
      expect(apiKey).toHaveBeenCalledTimes(1);
    });

    it('keeps a base URL path prefix', async () => {
      // Prepare
      agent
        .get('http://localhost:4010')
        .intercept({ path: `/polygon${GROUPED_PATH}` })
        .reply(200, { status: 'OK', resultsCount: 0 });
      const client = makeClient({ baseUrl: 'http://localhost:4010/polygon/' });

      // Act
      const bars = await client.groupedDaily('2024-03-08');

      // Assess
      expect(bars).toEqual([]);
    });
  });

  describe('key hygiene', () => {
    it('never puts the key in an error message, a stack or a log line', async () => {
      // Prepare
      const pool = agent.get(BASE);
      pool
        .intercept({ path: GROUPED_PATH })
        .reply(401, { status: 'ERROR', error: `Unknown API Key ${KEY}` });
      pool
        .intercept({ path: GROUPED_PATH })
        .reply(500, { status: 'ERROR', error: `upstream saw /v2/x?apiKey=${KEY}&a=1` })
        .times(2);
      pool
        .intercept({ path: GROUPED_PATH })
        .replyWithError(new Error(`connect failed for ${KEY}`))
        .times(2);
      pool.intercept({ path: RANGE_PATH }).reply(
        200,
        rangeBody([agg(START_2024_03_08)], {
          next_url: `${BASE}/v2/aggs/ticker/NVDA/range/1/day/1710129600000/2024-03-12?apiKey=${KEY}`,
        }),
      );
      pool
        .intercept({ path: '/v2/aggs/ticker/NVDA/range/1/day/1710129600000/2024-03-12' })
        .reply(429, '')
        .times(2);
      const client = makeClient({ maxAttempts: 2 });

      // Act
      const errors = [
        await caught(client.groupedDaily('2024-03-08')),
        await caught(client.groupedDaily('2024-03-08')),
        await caught(client.groupedDaily('2024-03-08')),
        await caught(client.dailyRange('NVDA', '2024-03-08', '2024-03-12')),
      ];

      // Assess
      expect(errors.map((e) => e.name)).toEqual([
        'PolygonAuthError',
        'PolygonServerError',
        'PolygonNetworkError',
        'PolygonRateLimitedError',
      ]);
      const render = (e: unknown): string =>
        e instanceof Error
          ? `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n${render(e.cause)}`
          : JSON.stringify(e ?? '');
      const text = [...errors.map(render), ...logLines].join('\n');
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain(KEY);
    });
  });
});

describe('the kind each failure carries', () => {
  it.each([
    [429, { 'retry-after': '7' }, { kind: 'rate-limited', retryAfterMs: 7_000 }],
    [401, {}, { kind: 'auth' }],
    [403, {}, { kind: 'not-available' }],
    [503, {}, { kind: 'server' }],
    [404, {}, { kind: 'other' }],
  ])('reads HTTP %i as the kind the error carries', async (status, headers, expected) => {
    // Prepare
    agent.get(BASE).intercept({ path: GROUPED_PATH }).reply(status, '', { headers });

    // Act
    const err = await caught(makeClient({ maxAttempts: 1 }).groupedDaily('2024-03-08'));

    // Assess: an upstream failure the refresh job reads the kind off.
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ ...expected, status });
  });

  it('makes an exhausted request budget an upstream failure of kind budget, named as before', () => {
    const err = new BudgetExhaustedError(3_000);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'budget', retryAfterMs: 3_000 });
    expect(errorText(err)).toBe(
      'BudgetExhaustedError: Polygon request budget exhausted; next permit in 3 s',
    );
  });
});
