import { Agent, request } from 'undici';
import {
  createPolygonClient,
  type PolygonClientOptions,
} from '../../lambdas/market-data/adapters/polygon-client';
import { nyWallTimeToUtcMs } from '../../lambdas/platform/ny-time';
import {
  maxInWindow,
  compressedClock,
  msUntilQuiet,
  type SimulatedRequest,
  NOT_AUTHORIZED_MESSAGE,
  RATE_LIMIT_MESSAGE,
  SIMULATOR_API_KEY,
  startPolygonSimulator,
  syntheticAgg,
  syntheticTickers,
  type PolygonSimulator,
  type PolygonSimulatorOptions,
} from '../../sim/polygon-simulator';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const FRIDAY = '2026-01-09';
const THURSDAY = '2026-01-08';
const SATURDAY = '2026-01-03';

let dispatcher: Agent;
let sim: PolygonSimulator | undefined;
let clock: number;

async function start(opts: PolygonSimulatorOptions = {}): Promise<PolygonSimulator> {
  sim = await startPolygonSimulator({
    universeSize: 40,
    tickers: ['NVDA', 'AAPL'],
    publishedThrough: FRIDAY,
    now: () => clock,
    ...opts,
  });
  return sim;
}

function clientFor(s: PolygonSimulator, overrides: Partial<PolygonClientOptions> = {}) {
  return createPolygonClient({
    baseUrl: s.url,
    apiKey: () => Promise.resolve(SIMULATOR_API_KEY),
    dispatcher,
    timeoutMs: 2_000,
    random: () => 0.5,
    sleep: () => Promise.resolve(),
    ...overrides,
  });
}

async function raw(s: PolygonSimulator, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${s.url}${path}`, { dispatcher, headers });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(() => {
  dispatcher = new Agent();
});

beforeEach(() => {
  clock = NOW;
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

afterAll(async () => {
  await dispatcher.close();
});

describe('startPolygonSimulator with the real client', () => {
  describe('happy path', () => {
    it('serves the grouped day of the whole universe, dated by the New York session', async () => {
      // Prepare
      const s = await start();
      const client = clientFor(s);

      // Act
      const bars = await client.groupedDaily(FRIDAY);

      // Assess
      expect(bars).toHaveLength(42);
      expect(new Set(bars.map((b) => b.ticker))).toEqual(
        new Set([...syntheticTickers(40), 'NVDA', 'AAPL']),
      );
      const nvda = bars.find((b) => b.ticker === 'NVDA');
      const expected = syntheticAgg('NVDA', FRIDAY);
      expect(nvda).toEqual({
        ticker: 'NVDA',
        session: FRIDAY,
        open: expected.o,
        high: expected.h,
        low: expected.l,
        close: expected.c,
        volume: expected.v,
        vwap: expected.vw,
        trades: expected.n,
        t: nyWallTimeToUtcMs(FRIDAY, 16),
      });
      expect(
        bars.every(
          (b) => b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close),
        ),
      ).toBe(true);
      expect(s.requests).toEqual([
        {
          at: NOW,
          method: 'GET',
          path: `/v2/aggs/grouped/locale/us/market/stocks/${FRIDAY}?adjusted=true`,
          auth: 'bearer',
          status: 200,
        },
      ]);
    });

    it('serves weekday range bars that agree with the grouped endpoint on every session', async () => {
      // Prepare
      const s = await start({ requestsPerMinute: 0 });
      const client = clientFor(s);

      // Act
      const range = await client.dailyRange('NVDA', '2025-12-29', FRIDAY);
      const groupedThursday = await client.groupedDaily(THURSDAY);
      const groupedFriday = await client.groupedDaily(FRIDAY);

      // Assess
      expect(range.map((b) => b.session)).toEqual([
        '2025-12-29',
        '2025-12-30',
        '2025-12-31',
        '2026-01-01',
        '2026-01-02',
        '2026-01-05',
        '2026-01-06',
        '2026-01-07',
        THURSDAY,
        FRIDAY,
      ]);
      expect(range[8].t).toBe(nyWallTimeToUtcMs(THURSDAY, 0));
      const strip = ({ t: _t, ...rest }: { t: number }) => rest;
      expect(strip(range[8])).toEqual(strip(groupedThursday.find((b) => b.ticker === 'NVDA')!));
      expect(strip(range[9])).toEqual(strip(groupedFriday.find((b) => b.ticker === 'NVDA')!));
    });

    it('yields no data on days the trading-day predicate rejects', async () => {
      // Prepare
      const s = await start({
        isTradingDay: (d) =>
          d !== '2026-01-01' && ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()),
      });
      const client = clientFor(s);

      // Act
      const holiday = await client.groupedDaily('2026-01-01');
      const range = await client.dailyRange('AAPL', '2025-12-31', '2026-01-02');

      // Assess
      expect(holiday).toEqual([]);
      expect(range.map((b) => b.session)).toEqual(['2025-12-31', '2026-01-02']);
    });
  });

  describe('empty results', () => {
    it('answers a weekend with the documented shape, without a results key, and accepts ?apiKey=', async () => {
      // Prepare
      const s = await start();

      // Act
      const res = await raw(
        s,
        `/v2/aggs/grouped/locale/us/market/stocks/${SATURDAY}?adjusted=true&apiKey=${SIMULATOR_API_KEY}`,
      );

      // Assess
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        queryCount: 0,
        resultsCount: 0,
        adjusted: true,
        status: 'OK',
        request_id: expect.any(String),
      });
      expect(s.requests[0]).toMatchObject({
        auth: 'query',
        path: expect.stringContaining('apiKey=REDACTED'),
      });
    });

    it('gives no bars for an unknown ticker', async () => {
      // Prepare
      const s = await start({ unknownTickers: ['NVDA'] });
      const client = clientFor(s);

      // Act
      const range = await client.dailyRange('NVDA', '2025-12-29', FRIDAY);
      const grouped = await client.groupedDaily(FRIDAY);
      const wire = await raw(s, `/v2/aggs/ticker/NVDA/range/1/day/2025-12-29/${FRIDAY}`, {
        authorization: `Bearer ${SIMULATOR_API_KEY}`,
      });

      // Assess
      expect(range).toEqual([]);
      expect(grouped.some((b) => b.ticker === 'NVDA')).toBe(false);
      expect(wire.json).toEqual({
        ticker: 'NVDA',
        queryCount: 0,
        resultsCount: 0,
        adjusted: true,
        status: 'OK',
        request_id: expect.any(String),
      });
    });
  });

  describe('errors', () => {
    it('answers an unknown key with 401 and the client raises an auth error', async () => {
      // Prepare
      const s = await start();
      const client = clientFor(s, { apiKey: () => Promise.resolve('wrong-key') });

      // Act
      const err = await caught(client.groupedDaily(FRIDAY));
      const missing = await raw(s, `/v2/aggs/grouped/locale/us/market/stocks/${FRIDAY}`);

      // Assess
      expect(err).toMatchObject({ name: 'PolygonAuthError', kind: 'auth' });
      expect(err.message).toContain('Unknown API Key');
      expect(err.message).not.toContain('wrong-key');
      expect(missing.status).toBe(401);
      expect(missing.json).toEqual({
        status: 'ERROR',
        request_id: expect.any(String),
        error: 'API Key was not provided',
      });
    });

    it('answers 403 NOT_AUTHORIZED for a session not yet published', async () => {
      // Prepare
      const s = await start({ publishedThrough: THURSDAY });
      const client = clientFor(s);

      // Act
      const err = await caught(client.groupedDaily(FRIDAY));
      const wire = await raw(s, `/v2/aggs/grouped/locale/us/market/stocks/${FRIDAY}`, {
        authorization: `Bearer ${SIMULATOR_API_KEY}`,
      });

      // Assess
      expect(err).toMatchObject({ name: 'PolygonNotAvailableError', kind: 'not-available' });
      expect(err.message).toContain("Your plan doesn't include this data timeframe");
      expect(wire.json).toEqual({
        status: 'NOT_AUTHORIZED',
        request_id: expect.any(String),
        message: NOT_AUTHORIZED_MESSAGE,
      });
    });

    it('publishes a session after its close on the simulator clock', async () => {
      // Prepare
      const s = await start({ publishedThrough: undefined, publishDelayMs: 30 * 60_000 });
      const client = clientFor(s);

      // Act
      clock = nyWallTimeToUtcMs(FRIDAY, 16, 29);
      const early = await caught(client.groupedDaily(FRIDAY));
      clock = nyWallTimeToUtcMs(FRIDAY, 16, 30);
      const onTime = await client.groupedDaily(FRIDAY);

      // Assess
      expect(early).toMatchObject({ name: 'PolygonNotAvailableError', kind: 'not-available' });
      expect(onTime).toHaveLength(42);
    });

    it('answers 403 for sessions more than two years old and clamps a range to the published sessions', async () => {
      // Prepare
      const s = await start({ publishedThrough: THURSDAY });
      const client = clientFor(s);

      // Act
      const oldGrouped = await caught(client.groupedDaily('2024-01-09'));
      const oldRange = await caught(client.dailyRange('NVDA', '2024-01-09', '2024-02-01'));
      const edge = await client.groupedDaily('2024-01-10');
      const clamped = await client.dailyRange('NVDA', '2026-01-07', FRIDAY);

      // Assess
      expect(oldGrouped).toMatchObject({ name: 'PolygonNotAvailableError', kind: 'not-available' });
      expect(oldRange).toMatchObject({ name: 'PolygonNotAvailableError', kind: 'not-available' });
      expect(edge).toHaveLength(42);
      expect(clamped.map((b) => b.session)).toEqual(['2026-01-07', THURSDAY]);
    });

    it('answers 404 for an unknown path', async () => {
      // Prepare
      const s = await start();

      // Act
      const res = await raw(s, '/v3/reference/tickers', {
        authorization: `Bearer ${SIMULATOR_API_KEY}`,
      });

      // Assess
      expect(res.status).toBe(404);
    });
  });

  describe('rate limit', () => {
    it('answers 429 past 5 requests in 60 s and admits again once the window slides', async () => {
      // Prepare
      const s = await start();
      const client = clientFor(s, { maxAttempts: 1 });
      for (let i = 0; i < 5; i++) {
        clock = NOW + i * 1_000;
        await client.groupedDaily(SATURDAY);
      }

      // Act
      clock = NOW + 59_999;
      const err = await caught(client.groupedDaily(SATURDAY));
      const wire = await raw(s, `/v2/aggs/grouped/locale/us/market/stocks/${SATURDAY}`, {
        authorization: `Bearer ${SIMULATOR_API_KEY}`,
      });
      clock = NOW + 60_000;
      const afterSlide = await client.groupedDaily(SATURDAY);

      // Assess
      expect(err).toMatchObject({ name: 'PolygonRateLimitedError', kind: 'rate-limited' });
      expect(wire.status).toBe(429);
      expect(wire.json).toEqual({
        status: 'ERROR',
        request_id: expect.any(String),
        error: RATE_LIMIT_MESSAGE,
      });
      expect(afterSlide).toEqual([]);
      expect(s.stats()).toMatchObject({
        total: 8,
        admitted: 6,
        rateLimited: 2,
        maxAdmittedInWindow: 5,
      });
    });

    it('can answer 429 with an empty body', async () => {
      // Prepare
      const s = await start({ requestsPerMinute: 1, emptyRateLimitBody: true });
      const client = clientFor(s, { maxAttempts: 1 });
      await client.groupedDaily(SATURDAY);

      // Act
      const err = await caught(client.groupedDaily(SATURDAY));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonRateLimitedError', kind: 'rate-limited' });
      expect(err.message).toMatch(/HTTP 429$/);
    });

    it('keeps a time-compressed client that honours Retry-After within 5 requests per minute', async () => {
      // Prepare
      const s = await start({ rateLimitRetryAfter: true });
      const client = clientFor(s, {
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
      });

      // Act
      for (let i = 0; i < 12; i++) await client.groupedDaily(SATURDAY);

      // Assess
      const stats = s.stats();
      expect(stats.admitted).toBe(12);
      expect(stats.rateLimited).toBeGreaterThan(0);
      expect(stats.maxAdmittedInWindow).toBe(5);
      expect(
        maxInWindow(
          s.requests.filter((r) => r.status === 200).map((r) => r.at),
          60_000,
        ),
      ).toBeLessThanOrEqual(5);
    });
  });

  describe('pagination', () => {
    it('pages a range through next_url with the key sent only as a bearer token', async () => {
      // Prepare
      const s = await start({ pageSize: 10 });
      const client = clientFor(s, { maxAttempts: 1 });
      const firstPage = await raw(
        s,
        `/v2/aggs/ticker/AAPL/range/1/day/2025-11-24/2025-12-31?adjusted=true&sort=asc&limit=5000`,
        {
          authorization: `Bearer ${SIMULATOR_API_KEY}`,
        },
      );
      clock += 60_000;

      // Act
      const bars = await client.dailyRange('AAPL', '2025-11-24', '2025-12-31');

      // Assess
      expect(firstPage.json?.next_url).toContain(`apiKey=${SIMULATOR_API_KEY}`);
      expect(bars).toHaveLength(28);
      expect(new Set(bars.map((b) => b.session)).size).toBe(28);
      expect(bars[0].session).toBe('2025-11-24');
      expect(bars[27].session).toBe('2025-12-31');
      const clientRequests = s.requests.slice(1);
      expect(clientRequests).toHaveLength(3);
      expect(
        clientRequests.every(
          (r) => r.auth === 'bearer' && r.status === 200 && !/apikey/i.test(r.path),
        ),
      ).toBe(true);
    });
  });

  describe('faults', () => {
    it('recovers from a connection reset by retrying', async () => {
      // Prepare
      const s = await start();
      s.setFault({ kind: 'reset', times: 1 });
      const client = clientFor(s);

      // Act
      const bars = await client.groupedDaily(FRIDAY);

      // Assess
      expect(bars).toHaveLength(42);
      expect(s.requests.map((r) => [r.status, r.fault])).toEqual([
        [0, 'reset'],
        [200, undefined],
      ]);
    });

    it('raises a network error when every attempt is reset', async () => {
      // Prepare
      const s = await start();
      s.setFault({ kind: 'reset' });
      const client = clientFor(s, { maxAttempts: 2 });

      // Act
      const err = await caught(client.groupedDaily(FRIDAY));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonNetworkError', kind: 'network' });
      expect(s.requests).toHaveLength(2);
    });

    it('raises a network error when a delay outlasts the client timeout', async () => {
      // Prepare
      const s = await start();
      s.setFault({ kind: 'delay', ms: 1_000 });
      const client = clientFor(s, { timeoutMs: 100, maxAttempts: 1 });

      // Act
      const err = await caught(client.groupedDaily(FRIDAY));

      // Assess
      expect(err).toMatchObject({ name: 'PolygonNetworkError', kind: 'network' });
      expect(err.message).toContain('timed out after 100 ms');
    });

    it('answers normally after a delay shorter than the client timeout', async () => {
      // Prepare
      const s = await start();
      s.setFault({ kind: 'delay', ms: 20, times: 1 });
      const client = clientFor(s, { timeoutMs: 2_000 });

      // Act
      const bars = await client.groupedDaily(FRIDAY);

      // Assess
      expect(bars).toHaveLength(42);
      expect(s.requests[0].fault).toBe('delay');
    });

    it('recovers from injected 503s and from a malformed body, which the client retries', async () => {
      // Prepare
      const s = await start({ requestsPerMinute: 0 });
      const client = clientFor(s);

      // Act
      s.setFault({ kind: 'status', status: 503, times: 2 });
      const recovered = await client.groupedDaily(FRIDAY);
      s.setFault({ kind: 'malformed', times: 1 });
      const afterMalformed = await client.groupedDaily(FRIDAY);
      s.setFault({ kind: 'malformed' });
      const unreadable = await caught(client.groupedDaily(FRIDAY));

      // Assess
      expect(recovered).toHaveLength(42);
      expect(afterMalformed).toHaveLength(42);
      expect(unreadable).toMatchObject({ name: 'PolygonUnreadableBodyError', kind: 'network' });
      expect(s.requests.slice(0, 5).map((r) => [r.status, r.fault])).toEqual([
        [503, 'status'],
        [503, 'status'],
        [200, undefined],
        [200, 'malformed'],
        [200, undefined],
      ]);
    });

    it('passes injected Retry-After headers through a status fault', async () => {
      // Prepare
      const s = await start();
      s.setFault({
        kind: 'status',
        status: 429,
        body: '',
        headers: { 'retry-after': '3' },
        times: 1,
      });
      const sleeps: number[] = [];
      const client = clientFor(s, {
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      });

      // Act
      await client.groupedDaily(SATURDAY);

      // Assess
      expect(sleeps).toEqual([3_000]);
    });

    it('fails the given fraction of requests with 500', async () => {
      // Prepare
      const s = await start({ requestsPerMinute: 0 });
      const client = clientFor(s, { maxAttempts: 1 });

      // Act
      s.setFault({ kind: 'fraction500', fraction: 1 });
      const always = await caught(client.groupedDaily(SATURDAY));
      s.setFault({ kind: 'fraction500', fraction: 0 });
      const never = await client.groupedDaily(SATURDAY);

      // Assess
      expect(always).toMatchObject({ name: 'PolygonServerError', kind: 'server' });
      expect(never).toEqual([]);
    });
  });
});

describe('msUntilQuiet', () => {
  it('maps the time since the last request back to real time and waits out the window (plus 100 ms)', () => {
    // Prepare: a 30x clock; the last request was at simulated instant 90,000.
    let now = 90_000;
    const clock = { now: () => now, scale: 30, windowMs: 2_000 };
    const sim = { requests: [{ at: 90_000 }] as SimulatedRequest[] };

    // Act / Assess: 0, 1.5 and 3 real seconds later
    expect(msUntilQuiet(sim, clock)).toBe(2_100);
    now = 90_000 + 1_500 * 30;
    expect(msUntilQuiet(sim, clock)).toBe(600);
    now = 90_000 + 3_000 * 30;
    expect(msUntilQuiet(sim, clock)).toBe(0);
    expect(msUntilQuiet({ requests: [] }, clock)).toBe(0);
  });
});

describe('compressedClock', () => {
  it('follows Date.now(), faked or not, and runs the elapsed time `scale` times faster', async () => {
    // Prepare
    const clock = compressedClock(30);
    const before = clock.now();
    const wall = Date.now();

    // Act
    await new Promise((r) => setTimeout(r, 50));
    const elapsed = clock.now() - before;
    jest.useFakeTimers({ now: Date.parse('2026-11-27T04:30:00Z'), doNotFake: ['performance'] });
    const faked = clock.now();
    jest.useRealTimers();

    // Assess
    expect(Math.abs(before - wall)).toBeLessThan(1_000);
    expect(elapsed).toBeGreaterThanOrEqual(50 * 30 - 30);
    expect(faked).toBeGreaterThanOrEqual(Date.parse('2026-11-27T04:30:00Z'));
    expect(faked).toBeLessThan(Date.parse('2026-11-27T04:30:00Z') + 60_000);
  });
});

describe('maxInWindow', () => {
  it('counts the densest half-open window', () => {
    // Prepare
    const instants = [0, 10, 59_999, 60_000, 60_010, 200_000];

    // Act
    const max = maxInWindow(instants, 60_000);

    // Assess
    expect(max).toBe(3);
  });
});
