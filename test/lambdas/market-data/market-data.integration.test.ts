/**
 * The nightly market-data refresh end to end: the real handlers against dynalite (DynamoDB),
 * the local SQS and the Polygon simulator, time-compressed 30× (the budget window is 2 s here and
 * the simulator's clock runs 30× faster, so its 60-s window is the same 2 s).
 */
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  DeleteItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import {
  latestCompletedSession,
  isTradingDay,
  previousTradingDay,
} from '../../../lambdas/market-data/domain/market-calendar';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import { drainQueue } from '../../../sim/queue-poller';
import {
  startPolygonSimulator,
  maxInWindow,
  SIMULATOR_API_KEY,
} from '../../../sim/polygon-simulator';
import { lambdaContext } from '../../helpers/events';
import { localServiceEnv } from '../../../sim/local-env';

jest.setTimeout(120_000);

const SCALE = 30;
const WINDOW_MS = 60_000 / SCALE;

let dynamo: LocalDynamo;
let sqs: LocalSqs;
let polygon: Awaited<ReturnType<typeof startPolygonSimulator>>;
let queueUrl: string;
let dlqUrl: string;
let processTickers: (e: unknown, c: unknown) => Promise<any>;
let processTicker: (e: unknown, c: unknown) => Promise<any>;

// The session the flows pick: no publication delay (an unpublished session is deferred). With a
// 60-minute delay here, runs between 16:00 and 17:00 New York expected the previous session.
const session = latestCompletedSession(Date.now());
const put = (table: string, item: Record<string, unknown>) =>
  dynamo.client.send(
    new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
const rowsOf = async (ticker: string) =>
  (
    (
      await dynamo.client.send(
        new QueryCommand({
          TableName: dynamo.names.tickerData,
          KeyConditionExpression: 'ticker = :t',
          ExpressionAttributeValues: { ':t': { S: ticker } },
        }),
      )
    ).Items ?? []
  ).map((i) => unmarshall(i));
const position = async (id: string) => {
  const out = await dynamo.client.send(
    new GetItemCommand({
      TableName: dynamo.names.positions,
      Key: { id: { S: id } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
};

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  sqs = await startLocalSqs();
  ({ queueUrl, dlqUrl } = await sqs.createQueue('ticker-processing-queue-local'));
  const start = Date.now();
  polygon = await startPolygonSimulator({
    requestsPerMinute: 5,
    isTradingDay,
    unknownTickers: ['ZZZZ'],
    now: () => start + (Date.now() - start) * SCALE,
    publishDelayMs: 0,
  });
  Object.assign(process.env, {
    ...localServiceEnv(dynamo, sqs.endpoint),
    SQS_QUEUE_URL: queueUrl,
    POLYGON_BASE_URL: polygon.url,
    POLYGON_API_KEY: SIMULATOR_API_KEY,
    POLYGON_REQUESTS_PER_MINUTE: '5',
    POLYGON_BUDGET_WINDOW_MS: String(WINDOW_MS),
  });
  // Imported after the environment is set, as Lambda would load them.
  processTickers = (await import('../../../lambdas/handlers/process-tickers'))
    .handler as typeof processTickers;
  processTicker = (await import('../../../lambdas/handlers/process-ticker'))
    .handler as typeof processTicker;

  // Prepare: two active portfolios (one without isActive), one inactive, positions with messy symbols.
  await put(dynamo.names.portfolios, {
    id: 'p-active',
    userId: 'u1',
    name: 'ZSM Seven',
    isActive: true,
  });
  await put(dynamo.names.portfolios, { id: 'p-legacy', userId: 'u2', name: 'Legacy' });
  await put(dynamo.names.portfolios, {
    id: 'p-inactive',
    userId: 'u3',
    name: 'Closed',
    isActive: false,
  });
  const pos = (
    id: string,
    portfolioId: string,
    ticker: string,
    shares: number | string,
    costBasis: number | string,
  ) =>
    put(dynamo.names.positions, {
      id,
      portfolioId,
      ticker,
      shares,
      costBasis,
      averageCost: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      notes: 'keep me',
    });
  await pos('pos-nvda', 'p-active', 'NVDA', 10, 1000);
  await pos('pos-aapl', 'p-active', ' aapl ', 0.1, 3);
  await pos('pos-msft', 'p-legacy', 'MSFT', 3, 900);
  await pos('pos-unknown', 'p-legacy', 'ZZZZ', 1, 10);
  await pos('pos-bad', 'p-legacy', 'NOT A TICKER', 1, 10);
  await pos('pos-inactive', 'p-inactive', 'TSLA', 1, 100);
});

afterAll(async () => {
  await polygon?.close();
  await sqs?.close();
  await dynamo?.close();
});

const drain = () =>
  drainQueue({
    client: sqs.client,
    queueUrl,
    handler: (event: SQSEvent, context) => processTicker(event, context),
    context: () => lambdaContext(900_000, 'processTicker'),
    batchSize: 1,
    timeoutMs: 90_000,
  });

describe('nightly refresh', () => {
  let firstNight: any;

  it('collects active tickers, normalised and de-duplicated; the unusable position is left out at the edge', async () => {
    // Act
    firstNight = await processTickers({}, lambdaContext());

    // Assess: pos-bad ("NOT A TICKER") is skipped by the portfolio repository (InvalidPositions,
    // one WARN line naming it), so the fan-out never sees it. The 4 held tickers and SPY, the
    // track record's benchmark, refreshed every night.
    expect(firstNight).toMatchObject({
      session,
      tickersFound: 5,
      tickersQueued: 5,
      jobsQueued: 1,
      positionsScanned: 4,
      invalid: { count: 0 },
    });
  });

  it('refreshes every ticker within 5 requests per rolling minute and reprices positions exactly', async () => {
    // Act
    const drained = await drain();

    // Assess: nothing left over or dead-lettered, budget never exceeded (in simulator time).
    expect(drained.leftOver).toBe(0);
    expect(await (await import('../../../sim/queue-poller')).depth(sqs.client, dlqUrl)).toBe(0);
    const admitted = polygon.requests.filter((r) => r.status !== 429).map((r) => r.at);
    expect(maxInWindow(admitted, 60_000)).toBeLessThanOrEqual(5);
    expect(polygon.stats().rateLimited).toBe(0);

    for (const t of ['NVDA', 'AAPL', 'MSFT']) {
      const rows = await rowsOf(t);
      const latest = rows.find((r) => r.asOf === session)!;
      expect(latest).toBeDefined();
      expect(latest.timestamp).toBe(sessionCloseIso(session));
      expect(typeof latest.rsi).toBe('number');
      expect(latest.rsi).toBeGreaterThanOrEqual(0);
      expect(latest.rsi).toBeLessThanOrEqual(100);
      const last50 = rows
        .filter((r) => r.asOf <= session)
        .sort((a, b) => (a.asOf < b.asOf ? -1 : 1))
        .slice(-50)
        .map((r) => r.price);
      expect(latest.ma50).toBeCloseTo(last50.reduce((s, x) => s + x, 0) / 50, 9);
    }
    expect(await rowsOf('ZZZZ')).toEqual([]);
    expect(await rowsOf('TSLA')).toEqual([]);

    const aapl = unmarshall((await position('pos-aapl'))!, { wrapNumbers: true });
    const price = (await rowsOf('AAPL')).find((r) => r.asOf === session)!.price as number;
    // 0.1 × price computed in decimal, not binary floating point, and P/L against the total cost.
    const Big = (await import('big.js')).default;
    expect(aapl.marketValue.value).toBe(new Big('0.1').times(String(price)).toFixed());
    expect(aapl.unrealizedPL.value).toBe(new Big(aapl.marketValue.value).minus('3').toFixed());
    expect(aapl.notes).toBe('keep me');
    const inactive = unmarshall((await position('pos-inactive'))!);
    expect(inactive.currentPrice).toBeUndefined();
  });

  it('spends no call when a complete night is re-run (unknown symbol included), and adds no duplicate rows', async () => {
    // Prepare
    const before = polygon.requests.length;
    const rowsBefore = (await rowsOf('NVDA')).length;

    // Act
    await processTickers({}, lambdaContext());
    await drain();

    // Assess: no call at all; the unknown symbol is in the no-data memo for this session.
    expect(polygon.requests.slice(before)).toEqual([]);
    expect((await rowsOf('NVDA')).length).toBe(rowsBefore);
    const memo = await dynamo.client.send(
      new GetItemCommand({ TableName: dynamo.names.state, Key: { pk: { S: 'nodata#ZZZZ' } } }),
    );
    expect(unmarshall(memo.Item!)).toMatchObject({ ticker: 'ZZZZ', session });
  });

  it('costs one grouped call and one splits lookup on a steady-state night, whatever the number of tickers', async () => {
    // Prepare: pretend the latest session was never fetched: drop it for every ticker.
    for (const t of ['NVDA', 'AAPL', 'MSFT']) {
      await dynamo.client.send(
        new DeleteItemCommand({
          TableName: dynamo.names.tickerData,
          Key: { ticker: { S: t }, timestamp: { S: sessionCloseIso(session) } },
        }),
      );
    }
    const before = polygon.requests.length;

    // Act
    const result = await processTicker({ ticker: 'NVDA' }, lambdaContext(900_000));
    await processTickers({}, lambdaContext());
    await drain();

    // Assess: the manual run fetched one grouped day for NVDA and asked for the splits since its
    // stored rows; the night the same for the rest.
    expect(result).toMatchObject({ status: 'done', session, refreshed: ['NVDA'] });
    const calls = polygon.requests.slice(before);
    expect(calls.map((r) => r.path.split('?')[0])).toEqual([
      `/v2/aggs/grouped/locale/us/market/stocks/${session}`,
      '/stocks/v1/splits',
      `/v2/aggs/grouped/locale/us/market/stocks/${session}`,
      '/stocks/v1/splits',
    ]);
    const nvda = (await rowsOf('NVDA')).find((r) => r.asOf === session)!;
    const prev = (await rowsOf('NVDA')).find((r) => r.asOf === previousTradingDay(session))!;
    expect(nvda.rsiAvgGain).toBeDefined();
    expect(prev.indicatorVersion).toBe(1);
  });

  it('never re-creates a position deleted before its price is written', async () => {
    // Prepare
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: dynamo.names.positions, Key: { id: { S: 'pos-msft' } } }),
    );
    await dynamo.client.send(
      new DeleteItemCommand({
        TableName: dynamo.names.tickerData,
        Key: { ticker: { S: 'MSFT' }, timestamp: { S: sessionCloseIso(session) } },
      }),
    );

    // The previous test spent this window's budget: start on a fresh one.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 100));

    // Act
    const result = await processTicker({ ticker: 'MSFT' }, lambdaContext(900_000));

    // Assess
    expect(result.status).toBe('done');
    expect(await position('pos-msft')).toBeUndefined();
  });
});

describe('bad input', () => {
  it('acknowledges a malformed message without retrying it', async () => {
    const { createSqsEvent } = await import('../../helpers/events');
    const result = await processTicker(
      createSqsEvent(['{not json', { v: 1, kind: 'refresh' }]),
      lambdaContext(),
    );
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('rejects a manual ticker list with an invalid symbol and queues nothing', async () => {
    await expect(
      processTickers({ tickers: ['NVDA', 'bad ticker!'] }, lambdaContext()),
    ).rejects.toThrow(/1 invalid ticker\(s\), nothing was queued/);
  });
});
