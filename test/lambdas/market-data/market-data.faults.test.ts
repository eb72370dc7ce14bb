/**
 * Upstream faults end to end: the real handlers against dynalite (DynamoDB), the local SQS and the
 * Polygon simulator, time-compressed 30× as in market-data.integration.test.ts (the budget
 * window is 2 s and the simulator's clock runs 30× faster, so its 60-s window is the same 2 s).
 *
 * Most cases refresh tickers whose history through the previous session is already stored
 * (seeded from the simulator's own bars), so a night costs one grouped call and the fault hits
 * it. Two more compressions, both outside the code under test:
 * - the simulator pages range answers by 100 bars, so a new ticker's history (≈ 275 sessions)
 *   takes 3 pages;
 * - a deferral's SQS delay is recorded, then shortened by a middleware on the functions' SQS
 *   client (60-900 s to 1 s, budget waits to at most 2 s), so that a deferred job resumes
 *   within the test.
 * The Polygon client's 20-s request timeout is not compressed: the timeout case takes ≈ 21 s.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { sqsClient } from '../../../lambdas/platform/aws-clients';
import { createTickerDataRepository } from '../../../lambdas/market-data/adapters/ticker-data-repository';
import {
  isTradingDay,
  latestCompletedSession,
  previousTradingDay,
  tradingDaysBack,
  tradingDaysBetween,
} from '../../../lambdas/market-data/domain/market-calendar';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import type { RefreshJob } from '../../../lambdas/market-data/refresh-job';
import { completeIndicators, rowFromBar } from '../../../lambdas/market-data/domain/ticker-rows';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import {
  NOT_AUTHORIZED_MESSAGE,
  SIMULATOR_API_KEY,
  maxInWindow,
  compressedClock,
  msUntilQuiet,
  type CompressedClock,
  startPolygonSimulator,
  syntheticAgg,
  type SimulatedRequest,
} from '../../../sim/polygon-simulator';
import { depth, drainQueue } from '../../../sim/queue-poller';
import { lambdaContext } from '../../helpers/events';
import { localServiceEnv } from '../../../sim/local-env';

jest.setTimeout(120_000);

const SCALE = 30;
const WINDOW_MS = 60_000 / SCALE;
const PAGE_SIZE = 100;
/** The SQS delay a deferral gets in this file (see the header). */
const compressed = (delaySeconds: number) => (delaySeconds >= 60 ? 1 : Math.min(delaySeconds, 2));

let dynamo: LocalDynamo;
let sqs: LocalSqs;
let polygon: Awaited<ReturnType<typeof startPolygonSimulator>>;
let queueUrl: string;
/** Real time the simulator's clock started from. */
let clock: CompressedClock;
let dlqUrl: string;
let processTickers: (e: unknown, c: unknown) => Promise<any>;
let processTicker: (e: unknown, c: unknown) => Promise<any>;
/** Every deferral the functions sent: the job and the delay it asked for. */
const deferrals: { job: RefreshJob; delaySeconds: number }[] = [];

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

beforeAll(async () => {
  [dynamo, sqs] = await Promise.all([startLocalDynamo(), startLocalSqs()]);
  ({ queueUrl, dlqUrl } = await sqs.createQueue('ticker-processing-queue-faults'));
  clock = compressedClock(SCALE);
  polygon = await startPolygonSimulator({
    requestsPerMinute: 5,
    isTradingDay,
    unknownTickers: ['ZZZZ'],
    now: clock.now,
    publishDelayMs: 0,
    pageSize: PAGE_SIZE,
  });
  Object.assign(process.env, {
    ...localServiceEnv(dynamo, sqs.endpoint),
    SQS_QUEUE_URL: queueUrl,
    POLYGON_BASE_URL: polygon.url,
    POLYGON_API_KEY: SIMULATOR_API_KEY,
    POLYGON_REQUESTS_PER_MINUTE: '5',
    POLYGON_BUDGET_WINDOW_MS: String(WINDOW_MS),
    POLYGON_TIMEOUT_MS: '3000',
  });
  // The functions' own SQS client (a module singleton, shared with the handlers imported below).
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageCommand') {
        const input = args.input as SendMessageCommandInput;
        deferrals.push({
          job: JSON.parse(input.MessageBody ?? '{}') as RefreshJob,
          delaySeconds: input.DelaySeconds ?? 0,
        });
        input.DelaySeconds = compressed(input.DelaySeconds ?? 0);
      }
      return next(args);
    },
    { step: 'initialize', name: 'compressDeferrals' },
  );
  // Imported after the environment is set, as Lambda would load them.
  processTickers = (await import('../../../lambdas/handlers/process-tickers'))
    .handler as typeof processTickers;
  processTicker = (await import('../../../lambdas/handlers/process-ticker'))
    .handler as typeof processTicker;
});

afterEach(() => polygon.setFault(undefined));

afterAll(async () => {
  await polygon?.close();
  await sqs?.close();
  await dynamo?.close();
});

/** The session processTickers picks (same function, same clock). */
const currentSession = () => latestCompletedSession(Date.now());

/** Stores 80 completed sessions through the previous one, from the simulator's own bars. */
const seedHistory = async (tickers: string[]) => {
  const through = previousTradingDay(currentSession());
  const rows = tickers.flatMap((ticker) =>
    completeIndicators(
      tradingDaysBack(through, 80).map((session) => {
        const a = syntheticAgg(ticker, session);
        return rowFromBar(
          ticker,
          { ticker, session, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v },
          'polygon-range',
          new Date().toISOString(),
        );
      }),
    ),
  );
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  await createTickerDataRepository({ client, tableName: dynamo.names.tickerData }).putRows(rows);
};

/** Queues one refresh job for `tickers` (a manual processTickers run); returns its session. */
const queueJob = async (tickers: string[]): Promise<string> => {
  const queued = await processTickers({ tickers }, lambdaContext());
  expect(queued).toMatchObject({ tickersQueued: tickers.length, jobsQueued: 1 });
  return queued.session as string;
};

const drain = () =>
  drainQueue({
    client: sqs.client,
    queueUrl,
    handler: (event: SQSEvent, context) => processTicker(event, context),
    context: () => lambdaContext(900_000, 'processTicker'),
    batchSize: 1,
    timeoutMs: 60_000,
  });

/**
 * Waits until the budget window holds none of the earlier tests' requests, for a test that
 * asserts exact deferrals (a busy window would add a budget deferral before the fault's own).
 */
const freeBudgetWindow = async () => {
  const wait = msUntilQuiet(polygon, { ...clock, windowMs: WINDOW_MS });
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
};

/** Requests the simulator receives from now on. */
const recorder = () => {
  const from = polygon.requests.length;
  return (): SimulatedRequest[] => polygon.requests.slice(from);
};

/** Deferrals sent from now on. */
const deferralRecorder = () => {
  const from = deferrals.length;
  return () => deferrals.slice(from);
};

/** Every ticker has its session row, with indicators, and nothing waits in the queue or DLQ. */
const expectAllFresh = async (
  tickers: string[],
  session: string,
  drained: Awaited<ReturnType<typeof drain>>,
) => {
  expect(drained).toMatchObject({ failures: 0, leftOver: 0 });
  expect(await depth(sqs.client, dlqUrl)).toBe(0);
  for (const t of tickers) {
    const latest = (await rowsOf(t)).find((r) => r.asOf === session);
    expect(latest).toMatchObject({
      ticker: t,
      timestamp: sessionCloseIso(session),
      indicatorVersion: 1,
      rsi: expect.any(Number),
      ma50: expect.any(Number),
    });
  }
};

const faultsOf = (requests: SimulatedRequest[], kind: SimulatedRequest['fault']) =>
  requests.filter((r) => r.fault === kind);

describe('pagination', () => {
  it("follows a new ticker's history through 3 pages, with the key only in the header", async () => {
    // Prepare: the first test of the file, so every budget permit is free.
    const session = await queueJob(['ZAAK']);
    const requests = recorder();

    // Act
    const drained = await drain();

    // Assess
    await expectAllFresh(['ZAAK'], session, drained);
    const pages = requests().map((r) => r.path);
    expect(pages).toHaveLength(3);
    expect(pages.every((p) => p.startsWith('/v2/aggs/ticker/ZAAK/range/1/day/'))).toBe(true);
    expect(pages.filter((p) => p.includes('cursor='))).toHaveLength(2);
    expect(requests().every((r) => r.auth === 'bearer' && !/apiKey/i.test(r.path))).toBe(true);
    const from = new Date(Date.parse(`${session}T00:00:00Z`) - 401 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const sessions = tradingDaysBetween(from, session);
    expect(sessions.length).toBeGreaterThan(2 * PAGE_SIZE);
    expect((await rowsOf('ZAAK')).map((r) => r.asOf).sort()).toEqual(sessions);
  });
});

describe('429 bursts', () => {
  it.each<{
    what: string;
    ticker: string;
    fault: { body?: string; headers: Record<string, string> };
    delaySeconds: number;
  }>([
    {
      what: 'with a JSON body and Retry-After',
      ticker: 'ZAAA',
      fault: { headers: { 'retry-after': '1' } },
      delaySeconds: 1,
    },
    {
      what: 'with an empty body and no Retry-After',
      ticker: 'ZAAB',
      fault: { body: '', headers: {} },
      delaySeconds: 60,
    },
  ])(
    'defers the job ($what) when the client retries run out, and the ticker ends fresh',
    async ({ ticker, fault, delaySeconds }) => {
      // Prepare: four 429s, as many as the client's attempts.
      await freeBudgetWindow();
      await seedHistory([ticker]);
      const session = await queueJob([ticker]);
      const requests = recorder();
      const deferred = deferralRecorder();
      polygon.setFault({ kind: 'status', status: 429, times: 4, ...fault });

      // Act
      const drained = await drain();

      // Assess: a deferral carrying the plan, then the job resumed and finished.
      await expectAllFresh([ticker], session, drained);
      expect(faultsOf(requests(), 'status')).toHaveLength(4);
      // The grouped day, then the splits lookup.
      expect(requests().map((r) => r.status)).toEqual([429, 429, 429, 429, 200, 200]);
      expect(deferred()).toEqual([
        {
          delaySeconds,
          job: expect.objectContaining({
            deferrals: 1,
            done: [],
            plan: { strategy: 'range', calls: [{ kind: 'grouped', date: session }] },
          }),
        },
      ]);
      expect(drained.invocations).toBe(2);
    },
  );

  it('absorbs a short burst with the client backoff, without a deferral', async () => {
    // Prepare
    await freeBudgetWindow();
    await seedHistory(['ZAAC']);
    const session = await queueJob(['ZAAC']);
    const deferred = deferralRecorder();
    polygon.setFault({ kind: 'status', status: 429, body: '', times: 2 });

    // Act
    const drained = await drain();

    // Assess
    await expectAllFresh(['ZAAC'], session, drained);
    expect(deferred()).toEqual([]);
    expect(drained.invocations).toBe(1);
  });
});

describe('server errors, timeouts, unpublished sessions', () => {
  it('retries a request that outlives the client timeout (3 s here, 20 s deployed) and finishes', async () => {
    // Prepare: the first request hangs longer than the timeout; the retry is answered.
    await seedHistory(['ZAAJ']);
    const session = await queueJob(['ZAAJ']);
    const requests = recorder();
    polygon.setFault({ kind: 'delay', ms: 5_000, times: 1 });
    const started = Date.now();

    // Act
    const drained = await drain();

    // Assess
    await expectAllFresh(['ZAAJ'], session, drained);
    expect(requests().map((r) => [r.fault, r.status])).toEqual([
      ['delay', 0],
      [undefined, 200],
      [undefined, 200], // the splits lookup
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
  });
  it('ends with every ticker fresh when 10% of the requests answer 500', async () => {
    // Prepare: two known tickers (a grouped call) and two new ones (3 history pages each).
    await seedHistory(['ZAAD', 'ZAAE']);
    const tickers = ['ZAAD', 'ZAAE', 'ZAAF', 'ZAAG'];
    const session = await queueJob(tickers);
    const requests = recorder();
    polygon.setFault({ kind: 'fraction500', fraction: 0.1 });

    // Act
    const drained = await drain();

    // Assess
    await expectAllFresh(tickers, session, drained);
    expect(faultsOf(requests(), 'fraction500').length).toBeGreaterThan(0);
  });

  it('defers on a 503 burst longer than the client retries (300 s asked) and resumes', async () => {
    // Prepare
    await freeBudgetWindow();
    await seedHistory(['ZAAH']);
    const session = await queueJob(['ZAAH']);
    const deferred = deferralRecorder();
    polygon.setFault({ kind: 'status', status: 503, times: 4 });

    // Act
    const drained = await drain();

    // Assess
    await expectAllFresh(['ZAAH'], session, drained);
    expect(deferred().map((d) => d.delaySeconds)).toEqual([300]);
  });

  it('defers a session Polygon answers 403 NOT_AUTHORIZED (not published yet) instead of failing', async () => {
    // Prepare
    await freeBudgetWindow();
    await seedHistory(['ZAAI']);
    const session = await queueJob(['ZAAI']);
    const deferred = deferralRecorder();
    polygon.setFault({
      kind: 'status',
      status: 403,
      body: { status: 'NOT_AUTHORIZED', request_id: 'r1', message: NOT_AUTHORIZED_MESSAGE },
      times: 1,
    });

    // Act
    const drained = await drain();

    // Assess: deferred for 15 minutes, no failed record, nothing in the DLQ, fresh once published.
    await expectAllFresh(['ZAAI'], session, drained);
    expect(deferred()).toEqual([
      { delaySeconds: 900, job: expect.objectContaining({ deferrals: 1, done: [] }) },
    ]);
  });
});

describe('concurrency', () => {
  it('never lets two consumers draining at once exceed 5 requests in any simulator minute', async () => {
    // Prepare: two jobs of one new ticker each (3 history pages each).
    const first = ['ZAAL'];
    const second = ['ZAAM'];
    const session = await queueJob(first);
    await queueJob(second);
    const requests = recorder();

    // Act
    const [a, b] = await Promise.all([drain(), drain()]);

    // Assess: both consumers worked, and the simulator never had to refuse a request.
    expect(a.invocations).toBeGreaterThan(0);
    expect(b.invocations).toBeGreaterThan(0);
    await expectAllFresh([...first, ...second], session, {
      ...a,
      failures: a.failures + b.failures,
    });
    const admitted = requests().map((r) => r.at);
    expect(admitted.length).toBeGreaterThanOrEqual(6);
    expect(maxInWindow(admitted, 60_000)).toBeLessThanOrEqual(5);
    expect(polygon.stats().rateLimited).toBe(0);
  });

  it('kept every request of the file within the plan: at most 5 in any simulator minute', () => {
    expect(polygon.stats().maxAdmittedInWindow).toBeLessThanOrEqual(5);
    expect(polygon.stats().rateLimited).toBe(0);
  });
});
