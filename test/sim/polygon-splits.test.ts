import { Agent, request } from 'undici';
import { createPolygonClient } from '../../lambdas/market-data/adapters/polygon-client';
import {
  SIMULATOR_API_KEY,
  startPolygonSimulator,
  syntheticAgg,
  type PolygonSimulator,
  type SimulatedSplit,
} from '../../sim/polygon-simulator';

// Simulator clock: Friday 2026-01-16, noon in New York ("today" is 2026-01-16).
const NOW = Date.UTC(2026, 0, 16, 17, 0, 0);
const SPLITS: SimulatedSplit[] = [
  { ticker: 'NVDA', executionDate: '2026-01-13', splitFrom: 1, splitTo: 10 },
  { ticker: 'AAPL', executionDate: '2026-01-14', splitFrom: 4, splitTo: 1 },
  { ticker: 'NVDA', executionDate: '2026-01-15', splitFrom: 1, splitTo: 2 },
  { ticker: 'MSFT', executionDate: '2026-01-21', splitFrom: 1, splitTo: 3 },
];

let dispatcher: Agent;
let sim: PolygonSimulator | undefined;

async function start(splits: readonly SimulatedSplit[] = SPLITS): Promise<PolygonSimulator> {
  sim = await startPolygonSimulator({
    universeSize: 5,
    tickers: ['NVDA', 'AAPL', 'MSFT'],
    publishedThrough: '2026-01-15',
    requestsPerMinute: 0,
    now: () => NOW,
    splits,
  });
  return sim;
}

async function get(s: PolygonSimulator, path: string) {
  const res = await request(`${s.url}${path}`, {
    dispatcher,
    headers: { authorization: `Bearer ${SIMULATOR_API_KEY}` },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, any> };
}

beforeAll(() => {
  dispatcher = new Agent();
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

afterAll(async () => {
  await dispatcher.close();
});

describe('Polygon simulator: splits endpoints', () => {
  it('lists splits by execution date range on /stocks/v1/splits with the documented fields', async () => {
    // Prepare
    const s = await start();

    // Act
    const res = await get(
      s,
      '/stocks/v1/splits?execution_date.gt=2026-01-13&execution_date.lte=2026-01-16&limit=10',
    );

    // Assess
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('OK');
    expect(res.json.next_url).toBeUndefined();
    expect(res.json.results).toEqual([
      expect.objectContaining({
        ticker: 'AAPL',
        execution_date: '2026-01-14',
        split_from: 4,
        split_to: 1,
        adjustment_type: 'reverse_split',
        historical_adjustment_factor: 4,
      }),
      expect.objectContaining({
        ticker: 'NVDA',
        execution_date: '2026-01-15',
        split_from: 1,
        split_to: 2,
        adjustment_type: 'forward_split',
        historical_adjustment_factor: 0.5,
      }),
    ]);
  });

  it('gives the cumulative factor of the earlier split and a factor of 1 to an announced one', async () => {
    // Prepare
    const s = await start();

    // Act
    const res = await get(s, '/stocks/v1/splits?ticker.any_of=NVDA,MSFT');

    // Assess
    const byDate = Object.fromEntries(
      (res.json.results as { execution_date: string; historical_adjustment_factor: number }[]).map(
        (r) => [r.execution_date, r.historical_adjustment_factor],
      ),
    );
    expect(byDate).toEqual({ '2026-01-13': 0.05, '2026-01-15': 0.5, '2026-01-21': 1 });
  });

  it('pages through next_url until every result is served, on both endpoints', async () => {
    // Prepare
    const s = await start();

    for (const path of ['/stocks/v1/splits?limit=1', '/v3/reference/splits?limit=1']) {
      // Act
      const seen: string[] = [];
      let next: string | undefined = path;
      while (next) {
        const res = await get(s, next.replace(s.url, ''));
        expect(res.status).toBe(200);
        for (const r of res.json.results as { ticker: string; execution_date: string }[])
          seen.push(`${r.ticker}@${r.execution_date}`);
        next = res.json.next_url as string | undefined;
      }

      // Assess
      expect(seen.sort()).toEqual(SPLITS.map((x) => `${x.ticker}@${x.executionDate}`).sort());
    }
  });

  it('serves the legacy endpoint without the new fields, filtered by ticker and reverse_split', async () => {
    // Prepare
    const s = await start();

    // Act
    const nvda = await get(s, '/v3/reference/splits?ticker=NVDA');
    const reverse = await get(s, '/v3/reference/splits?reverse_split=true');

    // Assess
    expect(nvda.json.results.map((r: { execution_date: string }) => r.execution_date)).toEqual([
      '2026-01-15',
      '2026-01-13',
    ]);
    expect(nvda.json.results[0]).not.toHaveProperty('historical_adjustment_factor');
    expect(reverse.json.results.map((r: { ticker: string }) => r.ticker)).toEqual(['AAPL']);
  });

  it('answers 400 for a bad execution date or limit', async () => {
    // Prepare
    const s = await start();

    // Act
    const badDate = await get(s, '/stocks/v1/splits?execution_date.gte=2026-1-1');
    const badLimit = await get(s, '/stocks/v1/splits?limit=0');

    // Assess
    expect(badDate.status).toBe(400);
    expect(badDate.json.error).toMatch(/execution_date/);
    expect(badLimit.status).toBe(400);
  });
});

describe('Polygon simulator: aggregates around splits', () => {
  const closeOf = async (s: PolygonSimulator, ticker: string, date: string, adjusted: boolean) => {
    const res = await get(
      s,
      `/v2/aggs/ticker/${ticker}/range/1/day/${date}/${date}?adjusted=${adjusted}`,
    );
    return res.json.results[0] as { c: number; v: number };
  };

  it('serves sessions before a split as traded (old basis) and adjusted to today', async () => {
    // Prepare
    const s = await start();
    const base = syntheticAgg('NVDA', '2026-01-12');

    // Act
    const traded = await closeOf(s, 'NVDA', '2026-01-12', false);
    const adjusted = await closeOf(s, 'NVDA', '2026-01-12', true);

    // Assess: before both NVDA splits (×10, then ×2) it traded 20× higher
    expect(traded.c).toBeCloseTo(base.c * 20, 1);
    expect(adjusted.c).toBeCloseTo(traded.c / 20, 10);
    expect(adjusted.v).toBe(traded.v * 20);
  });

  it('does not adjust for a split announced after today, in either mode', async () => {
    // Prepare
    const s = await start();

    // Act
    const traded = await closeOf(s, 'MSFT', '2026-01-15', false);
    const adjusted = await closeOf(s, 'MSFT', '2026-01-15', true);

    // Assess: traded on the pre-split basis, and today's basis is still that one
    expect(traded.c).toBeCloseTo(syntheticAgg('MSFT', '2026-01-15').c * 3, 1);
    expect(adjusted.c).toBe(traded.c);
  });

  it('puts a reverse split session and the grouped day on the same basis as the range', async () => {
    // Prepare
    const s = await start();

    // Act
    const grouped = await get(s, '/v2/aggs/grouped/locale/us/market/stocks/2026-01-13');
    const range = await closeOf(s, 'AAPL', '2026-01-13', true);
    const traded = await closeOf(s, 'AAPL', '2026-01-13', false);

    // Assess: 4-for-1 reverse: before it, AAPL traded at a quarter of today's basis
    const aapl = grouped.json.results.find((r: { T: string }) => r.T === 'AAPL');
    expect(aapl.c).toBe(range.c);
    expect(range.c).toBeCloseTo(traded.c * 4, 10);
    expect(range.c).toBeCloseTo(syntheticAgg('AAPL', '2026-01-13').c, 1);
  });

  it('serves a ticker without splits exactly as before', async () => {
    // Prepare
    const s = await start([]);

    // Act
    const adjusted = await closeOf(s, 'NVDA', '2026-01-12', true);

    // Assess
    expect(adjusted.c).toBe(syntheticAgg('NVDA', '2026-01-12').c);
  });
});

describe('Polygon client: splits', () => {
  const clientFor = (s: PolygonSimulator) =>
    createPolygonClient({
      baseUrl: s.url,
      apiKey: () => Promise.resolve(SIMULATOR_API_KEY),
      dispatcher,
      timeoutMs: 2_000,
      maxAttempts: 1,
      sleep: () => Promise.resolve(),
    });

  it('reads every page of the execution-date window, ascending, key never in a query', async () => {
    // Prepare
    sim = await startPolygonSimulator({
      now: () => NOW,
      requestsPerMinute: 0,
      pageSize: 1,
      splits: SPLITS,
    });

    // Act
    const splits = await clientFor(sim).splits('2026-01-13', '2026-01-16');

    // Assess
    expect(splits).toEqual([
      { ticker: 'NVDA', executionDate: '2026-01-13', splitFrom: 1, splitTo: 10 },
      { ticker: 'AAPL', executionDate: '2026-01-14', splitFrom: 4, splitTo: 1 },
      { ticker: 'NVDA', executionDate: '2026-01-15', splitFrom: 1, splitTo: 2 },
    ]);
    expect(sim.requests).toHaveLength(3);
    expect(sim.requests[0].path).toBe(
      '/stocks/v1/splits?execution_date.gte=2026-01-13&execution_date.lte=2026-01-16&limit=1000',
    );
    expect(sim.requests.every((r) => r.auth === 'bearer')).toBe(true);
  });

  it('rejects a malformed split naming the field, instead of ignoring it', async () => {
    // Prepare
    sim = await startPolygonSimulator({
      now: () => NOW,
      requestsPerMinute: 0,
      fault: {
        kind: 'status',
        status: 200,
        body: {
          status: 'OK',
          request_id: 'x',
          results: [{ ticker: 'NVDA', execution_date: '2026-01-13', split_from: 0, split_to: 10 }],
        },
      },
    });

    // Act
    const err = await clientFor(sim)
      .splits('2026-01-13', '2026-01-16')
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );

    // Assess
    expect(err?.name).toBe('PolygonBadResponseError');
    expect(err?.message).toMatch(/malformed split.*split_from/s);
  });

  it('refuses a window that is not two ordered dates before any request', async () => {
    // Prepare
    sim = await startPolygonSimulator({ now: () => NOW });

    // Act
    const reversed = clientFor(sim).splits('2026-01-16', '2026-01-13');
    const bad = clientFor(sim).splits('yesterday', '2026-01-13');

    // Assess
    await expect(reversed).rejects.toThrow(/after/);
    await expect(bad).rejects.toThrow(/YYYY-MM-DD/);
    expect(sim.requests).toHaveLength(0);
  });
});
