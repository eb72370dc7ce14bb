/**
 * Stock splits end to end: the refresh job with its real adapters (dynalite, the Polygon client
 * against the simulator, which serves the splits and adjusts the aggregates as Polygon does)
 * over simulated nights on a fixed calendar (the simulator clock and the job's clock are
 * injected; nothing depends on the real date).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Agent } from 'undici';
import { createPolygonClient } from '../../../lambdas/market-data/adapters/polygon-client';
import { createTickerDataRepository } from '../../../lambdas/market-data/adapters/ticker-data-repository';
import { rsiWilder, sma } from '../../../lambdas/market-data/domain/indicators';
import { ownRows, type TickerDataRow } from '../../../lambdas/market-data/domain/ticker-rows';
import { runRefreshJob, type RefreshJob } from '../../../lambdas/market-data/refresh-job';
import { createPortfolioRepository } from '../../../lambdas/portfolios/portfolio-repository';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import {
  SIMULATOR_API_KEY,
  startPolygonSimulator,
  type PolygonSimulator,
  type SimulatedSplit,
} from '../../../sim/polygon-simulator';

jest.setTimeout(60_000);

// Four nights, each run at 18:00 New York after its session (EDT from 2026-03-08).
const NIGHTS = ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12'];
const runAt = (session: string) => Date.parse(`${session}T22:00:00Z`);
const SPLITS: SimulatedSplit[] = [
  // night 2: NVDA 10-for-1; night 3: AAPL 1-for-4 (reverse); MSFT announced for later
  { ticker: 'NVDA', executionDate: '2026-03-11', splitFrom: 1, splitTo: 10 },
  { ticker: 'AAPL', executionDate: '2026-03-12', splitFrom: 4, splitTo: 1 },
  { ticker: 'MSFT', executionDate: '2026-03-20', splitFrom: 1, splitTo: 3 },
];
const TICKERS = ['AAPL', 'MSFT', 'NVDA'];

let dynamo: LocalDynamo;
let doc: DynamoDBDocumentClient;
/** Numbers as JS numbers, as the ticker-data repository is wired. */
let plainDoc: DynamoDBDocumentClient;
let polygon: PolygonSimulator;
let dispatcher: Agent;
let clock = runAt(NIGHTS[0]);
const logs: { level: string; message: string; data?: Record<string, unknown> }[] = [];
const deferred: unknown[] = [];

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: true },
    },
  );
  plainDoc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  dispatcher = new Agent();
  polygon = await startPolygonSimulator({
    universeSize: 20,
    tickers: TICKERS,
    requestsPerMinute: 0,
    publishDelayMs: 0,
    now: () => clock,
    splits: SPLITS,
  });
  await doc.send(
    new PutCommand({
      TableName: dynamo.names.portfolios,
      Item: { id: 'p1', userId: 'u1', name: 'ZSM Seven', isActive: true },
    }),
  );
  for (const [id, ticker] of [
    ['pos-nvda', 'NVDA'],
    ['pos-nvda-2', 'nvda'],
    ['pos-aapl', 'AAPL'],
    ['pos-msft', 'MSFT'],
  ])
    await doc.send(
      new PutCommand({
        TableName: dynamo.names.positions,
        Item: { id, portfolioId: 'p1', ticker, shares: 10, costBasis: 1000 },
      }),
    );
});

afterAll(async () => {
  await polygon?.close();
  await dispatcher?.close();
  await dynamo?.close();
});

const client = () =>
  createPolygonClient({
    baseUrl: polygon.url,
    apiKey: () => Promise.resolve(SIMULATOR_API_KEY),
    dispatcher,
    sleep: () => Promise.resolve(),
  });

const history = () =>
  createTickerDataRepository({ client: plainDoc, tableName: dynamo.names.tickerData });

async function night(session: string) {
  clock = runAt(session);
  const bars = client();
  const positions = createPortfolioRepository({
    client: doc,
    portfoliosTable: dynamo.names.portfolios,
    positionsTable: dynamo.names.positions,
    onInvalid: (r) => {
      throw new Error(`unexpected invalid record ${JSON.stringify(r)}`);
    },
  });
  const job: RefreshJob = {
    v: 1,
    kind: 'refresh',
    runId: `night-${session}`,
    session,
    tickers: TICKERS,
    done: [],
    deferrals: 0,
  };
  const before = polygon.requests.length;
  const outcome = await runRefreshJob(job, {
    bars,
    splits: bars,
    history: history(),
    positions,
    held: positions,
    deferrals: { send: (j) => Promise.resolve(void deferred.push(j)) },
    runtime: {
      now: () => clock,
      remainingMs: () => 900_000,
      log: (level, message, data) => logs.push({ level, message, data }),
    },
  });
  return { outcome, calls: polygon.requests.slice(before).map((r) => r.path.split('?')[0]) };
}

const storedRows = async (ticker: string): Promise<TickerDataRow[]> =>
  ownRows(await history().latestRows(ticker, 1000));

describe('splits over simulated nights', () => {
  it('leaves every held ticker on one basis, its newest row exact, at ≤ 3 calls a night', async () => {
    // Act: a backfill night, a quiet night, NVDA's 10-for-1, AAPL's 1-for-4
    const first = await night(NIGHTS[0]);
    const steady = [];
    for (const s of NIGHTS.slice(1)) steady.push(await night(s));

    // Assess: calls per night (one grouped day and one splits lookup), nothing deferred
    expect(first.outcome).toMatchObject({ status: 'done', refreshed: TICKERS });
    for (const n of steady) {
      expect(n.outcome.status).toBe('done');
      expect(n.calls).toEqual([
        expect.stringMatching(/^\/v2\/aggs\/grouped\//),
        '/stocks/v1/splits',
      ]);
    }
    expect(deferred).toEqual([]);
    expect(steady.map((n) => n.outcome).map((o) => o.status === 'done' && o.splitsApplied)).toEqual(
      [0, 1, 1],
    );

    // Every stored row on today's basis, the newest one exact
    const today = NIGHTS[3];
    const reference = client();
    for (const t of TICKERS) {
      const rows = await storedRows(t);
      const adjusted = await reference.dailyRange(t, rows[0].asOf, today);
      expect(rows.map((r) => r.asOf)).toEqual(adjusted.map((b) => b.session));
      rows.forEach((r, i) => expect(r.price / adjusted[i].close).toBeCloseTo(1, 9));
      const closes = adjusted.map((b) => b.close);
      const newest = rows[rows.length - 1];
      expect(newest.price).toBe(closes[closes.length - 1]);
      expect(Math.abs((newest.ma50 as number) / (sma(closes) as number) - 1)).toBeLessThan(1e-6);
      expect(Math.abs((newest.rsi as number) - (rsiWilder(closes) as number))).toBeLessThan(0.25);
    }
  });

  it('applies a split that executed while the service did not run when it runs again', async () => {
    // Prepare: the announced MSFT split changed nothing so far
    const before = await storedRows('MSFT');
    expect(before.some((r) => r.split !== undefined)).toBe(false);

    // Act: no run from 2026-03-13 to 2026-03-20 (MSFT's 1-to-3 executes on the 20th)
    const back = await night('2026-03-23');

    // Assess: history rebuilt or re-based onto today's basis, newest row exact
    expect(back.outcome).toMatchObject({ status: 'done', refreshed: TICKERS });
    expect(back.calls.filter((c) => c === '/stocks/v1/splits')).toHaveLength(1);
    const rows = await storedRows('MSFT');
    const adjusted = await client().dailyRange('MSFT', rows[0].asOf, '2026-03-23');
    expect(rows.map((r) => r.asOf)).toEqual(adjusted.map((b) => b.session));
    rows.forEach((r, i) => expect(r.price / adjusted[i].close).toBeCloseTo(1, 9));
    const closes = adjusted.map((b) => b.close);
    const newest = rows[rows.length - 1];
    expect(Math.abs((newest.ma50 as number) / (sma(closes) as number) - 1)).toBeLessThan(1e-6);
    expect(Math.abs((newest.rsi as number) - (rsiWilder(closes) as number))).toBeLessThan(0.25);
    expect(rows.find((r) => r.asOf === '2026-03-20')?.split).toEqual({ from: 1, to: 3 });
    expect(deferred).toEqual([]);
  });

  it('marks the split sessions, logs one line per split with its positions, and reprices at the close', async () => {
    // Assess (state left by the nights above)
    const nvda = await storedRows('NVDA');
    const aapl = await storedRows('AAPL');
    expect(nvda.find((r) => r.asOf === '2026-03-11')?.split).toEqual({ from: 1, to: 10 });
    expect(aapl.find((r) => r.asOf === '2026-03-12')?.split).toEqual({ from: 4, to: 1 });
    expect(nvda.filter((r) => r.split !== undefined)).toHaveLength(1);
    const lines = logs.filter((l) => l.message === 'Split applied: history re-based');
    expect(lines.map((l) => l.data).slice(0, 2)).toEqual([
      {
        ticker: 'NVDA',
        executionDate: '2026-03-11',
        splitFrom: 1,
        splitTo: 10,
        ratio: 10,
        positions: 2,
      },
      {
        ticker: 'AAPL',
        executionDate: '2026-03-12',
        splitFrom: 4,
        splitTo: 1,
        ratio: 0.25,
        positions: 1,
      },
    ]);
    const pos = await doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: dynamo.names.positions,
        Key: { id: 'pos-nvda' },
      }),
    );
    expect(Number((pos.Item?.currentPrice as { value: string }).value)).toBe(
      nvda[nvda.length - 1].price,
    );
  });
});
