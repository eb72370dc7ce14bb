/**
 * The market-data adapters against dynalite (a real DynamoDB engine), one server for the file;
 * aws-sdk-client-mock only where dynalite cannot produce the case (unprocessed batch items,
 * the item returned with a failed condition).
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import Big from 'big.js';
import { documentClient } from '../../../../lambdas/platform/aws-clients';
import { createNoDataMemo } from '../../../../lambdas/market-data/adapters/no-data-memo';
import { createPortfolioRepository } from '../../../../lambdas/portfolios/portfolio-repository';
import {
  BudgetExhaustedError,
  createRequestBudget,
} from '../../../../lambdas/market-data/adapters/request-budget';
import { createTickerDataRepository } from '../../../../lambdas/market-data/adapters/ticker-data-repository';
import { createParkedRows, PARKED_ID } from '../../../../lambdas/market-data/adapters/parked-rows';
import { createFinishCursor } from '../../../../lambdas/market-data/adapters/finish-cursor';
import { tradingDaysBack } from '../../../../lambdas/market-data/domain/market-calendar';
import {
  ownRows,
  rowFromBar,
  type TickerDataRow,
} from '../../../../lambdas/market-data/domain/ticker-rows';
import { startLocalDynamo, type LocalDynamo } from '../../../../sim/local-dynamo';
import { maxInWindow } from '../../../../sim/polygon-simulator';

jest.setTimeout(60_000);

const SESSION = '2026-11-20';
let dynamo: LocalDynamo;

/** A DocumentClient on dynalite, configured like `documentClient()` (its own base client). */
const docClient = (exactNumbers = false) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: exactNumbers },
    },
  );

/** A client whose `send` is mocked (no server behind it). */
const mockedDocClient = () => {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  return { client, mock: mockClient(client) };
};

const put = (table: string, item: Record<string, unknown>) =>
  dynamo.client.send(
    new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
const getRaw = async (table: string, key: Record<string, AttributeValue>) =>
  (
    await dynamo.client.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    )
  ).Item;

const rowsFor = (ticker: string, n: number): TickerDataRow[] =>
  tradingDaysBack(SESSION, n).map((session, i) =>
    rowFromBar(
      ticker,
      { ticker, session, open: 10 + i, high: 11 + i, low: 9 + i, close: 10.01 + i, volume: 100 },
      'polygon-range',
      '2026-11-21T04:30:00.000Z',
    ),
  );

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  // The production client factory reads the SDK's standard endpoint variables.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
});

afterAll(async () => {
  await dynamo?.close();
});

describe('request budget', () => {
  it('never grants more than `limit` permits in any window to two consumers hammering it', async () => {
    // Prepare: two "processes" (own clients) sharing the budget of one table; 3 per 500 ms.
    const LIMIT = 3;
    const WINDOW_MS = 500;
    const permits: number[] = [];
    const waits: number[] = [];
    let windowMs = 0;
    const consumer = async () => {
      // The budget's own clock: the instant of the claim that succeeded is the last one read.
      let lastRead = 0;
      const budget = createRequestBudget({
        client: docClient(),
        tableName: dynamo.names.state,
        limit: LIMIT,
        windowMs: WINDOW_MS,
        marginMs: 0,
        name: 'hammered',
        apiKey: 'key-a',
        now: () => (lastRead = Date.now()),
      });
      windowMs = budget.windowMs;
      // Until the windows have rolled over enough (a count, not a fixed time, so a loaded
      // machine's slower DynamoDB cannot starve the assertion below), with a generous bound.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && permits.length < 4 * LIMIT) {
        try {
          await budget.acquire();
          permits.push(lastRead);
        } catch (err) {
          if (!(err instanceof BudgetExhaustedError)) throw err;
          waits.push(err.retryAfterMs);
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    };

    // Act
    await Promise.all([consumer(), consumer()]);

    // Assess: the limit holds in every window, and the windows did roll over (≥ 3 rounds).
    expect(windowMs).toBe(WINDOW_MS);
    expect(maxInWindow(permits, WINDOW_MS)).toBeLessThanOrEqual(LIMIT);
    expect(permits.length).toBeGreaterThanOrEqual(3 * LIMIT);
    expect(waits.length).toBeGreaterThan(0);
    for (const w of waits) {
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(WINDOW_MS);
    }
  }, 30_000);

  it('says when the permit `limit` back leaves the window, from the item returned with the failed condition', async () => {
    // Prepare: a budget of 2 whose item another process moved to seq 7 (permits at 9,700, 9,900).
    const { client, mock } = mockedDocClient();
    const failed = (item: Record<string, { N: string }>) =>
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: item,
      });
    const item = { seq: { N: '7' }, t0: { N: '9900' }, t1: { N: '9700' } };
    mock.on(UpdateCommand).rejectsOnce(failed(item)).rejectsOnce(failed(item));
    const budget = createRequestBudget({
      client,
      tableName: 'state',
      limit: 2,
      windowMs: 500,
      marginMs: 0,
      apiKey: 'key-a',
      now: () => 10_000,
    });

    // Act
    const error: unknown = await budget.acquire().catch((e: unknown) => e);

    // Assess: first claim assumed no item; the second claimed permit 7 (slot t1, used at 9,700,
    // free at 10,200) on the seq it was told; two writes on the one item.
    expect(error).toBeInstanceOf(BudgetExhaustedError);
    expect((error as BudgetExhaustedError).retryAfterMs).toBe(200);
    const inputs = mock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    // The item is named by a hash of the key (sha256('key-a'), first 16 hex), never the key.
    const pk = 'budget#polygon#' + createHash('sha256').update('key-a').digest('hex').slice(0, 16);
    expect(inputs.map((i) => i.Key)).toEqual([{ pk }, { pk }]);
    expect(inputs[1].ExpressionAttributeNames).toEqual({ '#slot': 't1' });
    expect(inputs[1].ExpressionAttributeValues).toMatchObject({ ':seq': 7, ':next': 8 });
    expect(budget.writes()).toBe(2);
  });

  it('takes one write per permit and one per refusal on an uncontended budget', async () => {
    // Prepare: a fresh budget of 3 per minute on a frozen clock.
    let t = 1_000_000;
    const budget = createRequestBudget({
      client: docClient(),
      tableName: dynamo.names.state,
      limit: 3,
      name: 'one-write',
      apiKey: 'key-a',
      now: () => t,
    });

    // Act: three permits, a refusal, then one more after the window.
    for (let i = 0; i < 3; i++) await budget.acquire();
    const refused: unknown = await budget.acquire().catch((e: unknown) => e);
    t += budget.windowMs;
    await budget.acquire();

    // Assess
    expect(refused).toBeInstanceOf(BudgetExhaustedError);
    expect((refused as BudgetExhaustedError).retryAfterMs).toBe(budget.windowMs);
    expect(budget.writes()).toBe(5);
  });

  it('rejects a budget that is not a positive integer', () => {
    expect(() =>
      createRequestBudget({ client: docClient(), tableName: 't', limit: 0, apiKey: 'k' }),
    ).toThrow(/POLYGON_REQUESTS_PER_MINUTE/);
  });
});

describe('parked rows', () => {
  it('parks rows in chunks under the item limit and gives them back exactly', async () => {
    // Prepare: 30,000 rows of incompressible-ish prices (more than one chunk), some without vwap.
    const store = createParkedRows({ client: docClient(), tableName: dynamo.names.state });
    const fetchedAt = '2026-11-21T04:30:00.000Z';
    const rows: TickerDataRow[] = [];
    for (let i = 0; i < 1_000; i++)
      for (const [j, session] of tradingDaysBack(SESSION, 30).entries()) {
        const close = Math.round(Math.abs(Math.sin(i * 31 + j)) * 1e6) / 100;
        rows.push(
          rowFromBar(
            `T${i}`,
            {
              ticker: `T${i}`,
              session,
              open: close + 0.01,
              high: close + 1.5,
              low: close - 1.25,
              close,
              volume: 1_000 + i * j,
              vwap: j % 2 ? close : undefined,
              trades: j % 3 ? 7 : undefined,
            },
            j % 5 ? 'polygon-grouped' : 'polygon-range',
            fetchedAt,
          ),
        );
      }

    // Act
    const id = await store.park('run#2026-11-20#T0', rows);
    const back = await store.load('run#2026-11-20#T0', id);

    // Assess
    expect(id).toMatch(PARKED_ID);
    expect(Number(id.split('.')[1])).toBeGreaterThan(1);
    expect(back).toEqual(rows);
    await expect(store.load('run#2026-11-20#T1', id)).rejects.toThrow(/missing/);
  });
});

describe('finishing cursor', () => {
  it('starts at 0, moves only from the value it holds, and reads a foreign value as 0', async () => {
    // Prepare
    const cursor = createFinishCursor({ client: docClient(), tableName: dynamo.names.state });
    const key = 'run-c#2026-11-20#AAA';

    // Act: a first chunk, a duplicate invocation still at 0, the next chunk, a stale one.
    const start = await cursor.load(key);
    const first = await cursor.advance(key, 0, 40);
    const duplicate = await cursor.advance(key, 0, 35);
    const second = await cursor.advance(key, 40, 90);
    const stale = await cursor.advance(key, 40, 95);
    const end = await cursor.load(key);
    await put(dynamo.names.state, { pk: 'finish#run-d#2026-11-20#AAA', next: 'x' });

    // Assess
    expect([start, first, duplicate, second, stale, end]).toEqual([
      0,
      true,
      false,
      true,
      false,
      90,
    ]);
    await expect(cursor.load('run-d#2026-11-20#AAA')).resolves.toBe(0);
  });
});

describe('ticker-data repository', () => {
  it('writes rows in batches and reads the newest first, old Python rows included', async () => {
    // Prepare
    const repo = createTickerDataRepository({
      client: docClient(),
      tableName: dynamo.names.tickerData,
    });
    const rows = rowsFor('RPO', 60);
    await put(dynamo.names.tickerData, {
      ticker: 'RPO',
      timestamp: `${SESSION}T23:30:00.123456`,
      price: 1,
    });

    // Act
    const written = await repo.putRows(rows);
    const newest = await repo.latestRows('RPO', 50);

    // Assess
    expect(written).toEqual({ writeRequests: 3 });
    expect(newest).toHaveLength(50);
    expect(newest[0].timestamp).toBe(`${SESSION}T23:30:00.123456`);
    expect(newest[1]).toEqual({ ...rows[59] });
    const own = ownRows(newest);
    expect(own).toHaveLength(49);
    expect(own.map((r) => r.price)).toEqual(rows.slice(11).map((r) => r.price));
  });

  it('writes batches in parallel and reads rows by key, 100 keys a request', async () => {
    // Prepare: 130 rows of one ticker, 30 of another
    const repo = createTickerDataRepository({
      client: docClient(),
      tableName: dynamo.names.tickerData,
    });
    const rows = [...rowsFor('BGA', 130), ...rowsFor('BGB', 30)];

    // Act
    const written = await repo.putRows(rows);
    const keys = [...rowsFor('BGA', 130), ...rowsFor('BGC', 90)].map((r) => ({
      ticker: r.ticker,
      timestamp: r.timestamp,
    }));
    const read = await repo.rowsAt(keys);

    // Assess: 7 batches of 25; 220 keys (3 requests), only BGA's 130 exist
    expect(written).toEqual({ writeRequests: 7 });
    expect(read).toHaveLength(130);
    expect(ownRows(read)).toEqual(rows.slice(0, 130).map((r) => ({ ...r })));
    expect(ownRows(await repo.latestRows('BGB', 100))).toHaveLength(30);
  });

  it('re-sends unprocessed items until they are written', async () => {
    // Prepare: the first batch comes back with 3, then 1 unprocessed item.
    const { client, mock } = mockedDocClient();
    const rows = rowsFor('UNP', 30);
    const request = (r: TickerDataRow) => ({ PutRequest: { Item: { ...r } } });
    mock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { td: rows.slice(0, 3).map(request) } })
      .resolvesOnce({ UnprocessedItems: { td: rows.slice(2, 3).map(request) } })
      .resolves({});
    const sleeps: number[] = [];
    const repo = createTickerDataRepository({
      client,
      tableName: 'td',
      // One batch at a time, so that the mocked answers go to the batches in order.
      concurrency: 1,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    // Act
    const result = await repo.putRows(rows);

    // Assess: 25 + 3 + 1 (first batch), then 5.
    const sent = mock
      .commandCalls(BatchWriteCommand)
      .map((c) => (c.args[0].input.RequestItems?.td ?? []).map((w) => w.PutRequest?.Item?.asOf));
    expect(sent).toEqual([
      rows.slice(0, 25).map((r) => r.asOf),
      rows.slice(0, 3).map((r) => r.asOf),
      [rows[2].asOf],
      rows.slice(25).map((r) => r.asOf),
    ]);
    expect(result).toEqual({ writeRequests: 4 });
    // Full jitter under the ceilings 100 ms and 200 ms (platform/dynamo.ts).
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(100);
    expect(sleeps[1]).toBeLessThan(200);
  });

  it('fails, naming the count, when items stay unprocessed', async () => {
    // Prepare
    const { client, mock } = mockedDocClient();
    const rows = rowsFor('UNP', 7);
    mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    const repo = createTickerDataRepository({
      client,
      tableName: 'td',
      maxRounds: 3,
      sleep: async () => undefined,
    });

    // Act + Assess
    await expect(repo.putRows(rows)).rejects.toThrow(
      '7 ticker-data rows stayed unprocessed after 3 BatchWrite rounds',
    );
    expect(mock.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });
});

describe('portfolio repository', () => {
  const portfolios = () => dynamo.names.portfolios;
  const positions = () => dynamo.names.positions;
  const position = (id: string, portfolioId: string, ticker: string, shares = 10, cost = 1000) => ({
    id,
    portfolioId,
    ticker,
    shares,
    costBasis: cost,
    averageCost: cost / shares,
    notes: 'keep me',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const repoWith = (client: DynamoDBDocumentClient) =>
    createPortfolioRepository({
      client,
      portfoliosTable: portfolios(),
      positionsTable: positions(),
      now: () => Date.parse('2026-11-21T04:35:00.000Z'),
      onInvalid: (r) => {
        throw new Error(`unexpected unusable ${r.kind} ${r.id}: ${r.reason}`);
      },
    });

  it('reads every page of the portfolio scan and of the positions query', async () => {
    // Prepare: pages of 2 items (the SDK sends Limit; dynalite pages exactly like DynamoDB).
    for (let i = 0; i < 8; i++) {
      await put(portfolios(), {
        id: `pg-${i}`,
        userId: `u${i}`,
        name: `P${i}`,
        ...(i === 3 ? {} : { isActive: i % 4 !== 1 }),
      });
    }
    for (let i = 0; i < 7; i++) await put(positions(), position(`pg-pos-${i}`, 'pg-0', `T${i}`));
    const client = docClient(true);
    const pages = { ScanCommand: 0, QueryCommand: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName as keyof typeof pages;
        if (name in pages) {
          pages[name]++;
          (args.input as { Limit?: number }).Limit = 2;
        }
        return next(args);
      },
      { step: 'initialize', name: 'smallPages' },
    );
    const repo = repoWith(client);

    // Act
    const active = await repo.activePortfolios();
    const held = await repo.positionsOf('pg-0');

    // Assess: missing isActive counts as active; inactive ones (1 and 5) are left out.
    expect(
      active
        .map((p) => p.id)
        .filter((id) => id.startsWith('pg-'))
        .sort(),
    ).toEqual(['pg-0', 'pg-2', 'pg-3', 'pg-4', 'pg-6', 'pg-7']);
    expect(held.map((p) => p.id).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `pg-pos-${i}`),
    );
    expect(pages.ScanCommand).toBeGreaterThanOrEqual(4);
    expect(pages.QueryCommand).toBeGreaterThanOrEqual(4);
  });

  it('recomputes from the new shares and cost when they changed between read and write', async () => {
    // Prepare
    await put(positions(), position('cf-1', 'p-x', 'NVDA', 10, 1000));
    const repo = repoWith(docClient(true));
    const [read] = await repo.positionsOf('p-x');
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: positions(),
        Key: { id: { S: 'cf-1' } },
        UpdateExpression: 'SET shares = :s, costBasis = :c',
        ExpressionAttributeValues: { ':s': { N: '12' }, ':c': { N: '1300' } },
      }),
    );

    // Act
    const result = await repo.updatePrice(read, 187.5);

    // Assess
    expect(result).toBe('updated');
    const item = unmarshall((await getRaw(positions(), { id: { S: 'cf-1' } }))!);
    expect(item).toMatchObject({
      shares: 12,
      costBasis: 1300,
      currentPrice: 187.5,
      marketValue: 2250,
      unrealizedPL: 950,
      notes: 'keep me',
      updatedAt: '2026-11-21T04:35:00.000Z',
    });
  });

  it("gives up with 'conflict' when every attempt meets a new edit", async () => {
    // Prepare: another writer bumps the shares right before each of our writes.
    await put(positions(), position('cf-2', 'p-y', 'NVDA', 10, 1000));
    const client = docClient(true);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateCommand' || context.commandName === 'UpdateItemCommand')
          await dynamo.client.send(
            new UpdateItemCommand({
              TableName: positions(),
              Key: { id: { S: 'cf-2' } },
              UpdateExpression: 'SET shares = shares + :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            }),
          );
        return next(args);
      },
      { step: 'initialize', name: 'concurrentEdit' },
    );
    const repo = repoWith(client);
    const [read] = await repo.positionsOf('p-y');

    // Act
    const result = await repo.updatePrice(read, 10);

    // Assess
    expect(result).toBe('conflict');
    const item = unmarshall((await getRaw(positions(), { id: { S: 'cf-2' } }))!);
    expect(item.currentPrice).toBeUndefined();
  });

  it("leaves a position whose ticker changed alone ('moved')", async () => {
    // Prepare
    await put(positions(), position('mv-1', 'p-m', 'NVDA'));
    const repo = repoWith(docClient(true));
    const [read] = await repo.positionsOf('p-m');
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: positions(),
        Key: { id: { S: 'mv-1' } },
        UpdateExpression: 'SET ticker = :t',
        ExpressionAttributeValues: { ':t': { S: 'AAPL' } },
      }),
    );

    // Act
    const result = await repo.updatePrice(read, 187.5);

    // Assess
    expect(result).toBe('moved');
    const item = unmarshall((await getRaw(positions(), { id: { S: 'mv-1' } }))!);
    expect(item.ticker).toBe('AAPL');
    expect(item.currentPrice).toBeUndefined();
  });

  it("never re-creates a position deleted meanwhile ('deleted')", async () => {
    // Prepare
    await put(positions(), position('dl-1', 'p-d', 'NVDA'));
    const repo = repoWith(docClient(true));
    const [read] = await repo.positionsOf('p-d');
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: positions(), Key: { id: { S: 'dl-1' } } }),
    );

    // Act
    const result = await repo.updatePrice(read, 187.5);

    // Assess
    expect(result).toBe('deleted');
    expect(await getRaw(positions(), { id: { S: 'dl-1' } })).toBeUndefined();
  });

  it('prices positions in exact decimals (20-digit shares) through the production client', async () => {
    // Prepare: numbers a binary float cannot hold (12345678901.234567891 → 12345678901.234568).
    const shares = '12345678901.234567891';
    const cost = '98765432109.87654321';
    await put(portfolios(), { id: 'p-exact', userId: 'ux', name: 'Exact', isActive: true });
    await put(portfolios(), { id: 'p-off', userId: 'ux', name: 'Off', isActive: false });
    await dynamo.client.send(
      new PutItemCommand({
        TableName: positions(),
        Item: {
          ...marshall(position('ex-1', 'p-exact', 'EXCT')),
          shares: { N: shares },
          costBasis: { N: cost },
        },
      }),
    );
    await put(positions(), position('ex-off', 'p-off', 'EXCT'));
    const repo = repoWith(documentClient(true));

    // Act
    const summary = await repo.reprice(new Map([['EXCT', { price: 187.23, asOf: SESSION }]]));

    // Assess: the stored N strings are the exact decimal results.
    expect(summary).toEqual({ updated: 1, deleted: 0, moved: 0, conflicts: 0 });
    const item = (await getRaw(positions(), { id: { S: 'ex-1' } }))!;
    const marketValue = new Big(shares).times('187.23');
    expect(item.shares).toEqual({ N: shares });
    expect(item.currentPrice).toEqual({ N: '187.23' });
    expect(item.marketValue).toEqual({ N: marketValue.toFixed() });
    expect(item.marketValue).toEqual({ N: '2311481460678.14814623193' });
    expect(item.unrealizedPL).toEqual({ N: '2212716028568.27160302193' });
    // What the same computation gives on shares read as a JS number: not the exact product.
    expect(new Big(Number(shares)).times('187.23').toFixed()).not.toBe(marketValue.toFixed());
    const inactive = unmarshall((await getRaw(positions(), { id: { S: 'ex-off' } }))!);
    expect(inactive.currentPrice).toBeUndefined();
  });
});

describe('no-data memo', () => {
  const DAY = 86_400_000;
  const T0 = Date.parse('2026-11-21T04:30:00.000Z');

  it('remembers tickers without data for one session only', async () => {
    // Prepare
    const memo = createNoDataMemo({
      client: docClient(),
      tableName: dynamo.names.state,
      now: () => T0,
    });

    // Act
    await memo.record(['ZZZZ', 'QQQQ', 'ZZZZ'], SESSION);

    // Assess
    expect(await memo.known(['NVDA', 'ZZZZ', 'QQQQ'], SESSION)).toEqual(new Set(['ZZZZ', 'QQQQ']));
    expect(await memo.known(['ZZZZ'], '2026-11-23')).toEqual(new Set());
    expect(await memo.known([], SESSION)).toEqual(new Set());
    const item = unmarshall((await getRaw(dynamo.names.state, { pk: { S: 'nodata#ZZZZ' } }))!);
    expect(item).toEqual({
      pk: 'nodata#ZZZZ',
      kind: 'no-data',
      ticker: 'ZZZZ',
      session: SESSION,
      recordedAt: '2026-11-21T04:30:00.000Z',
      expiresAt: T0 / 1000 + 10 * 86_400,
    });
  });

  it('handles more tickers than one batch holds, and overwrites an older session', async () => {
    // Prepare
    const memo = createNoDataMemo({ client: docClient(), tableName: dynamo.names.state });
    const many = Array.from({ length: 230 }, (_, i) => `M${i}`);
    await memo.record(many, '2026-11-19');

    // Act
    await memo.record(many.slice(0, 120), SESSION);

    // Assess
    expect(await memo.known(many, SESSION)).toEqual(new Set(many.slice(0, 120)));
    expect(await memo.known(many, '2026-11-19')).toEqual(new Set(many.slice(120)));
  });

  it('ignores an entry past its TTL that DynamoDB has not deleted yet', async () => {
    // Prepare
    await createNoDataMemo({
      client: docClient(),
      tableName: dynamo.names.state,
      now: () => T0,
    }).record(['OLDX'], SESSION);

    // Act
    const later = createNoDataMemo({
      client: docClient(),
      tableName: dynamo.names.state,
      now: () => T0 + 11 * DAY,
    });

    // Assess
    expect(await later.known(['OLDX'], SESSION)).toEqual(new Set());
  });

  it('re-requests unprocessed keys and items, and fails naming the count when they stay', async () => {
    // Prepare
    const { client, mock } = mockedDocClient();
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { st: [{ ticker: 'A', session: SESSION }] },
        UnprocessedKeys: { st: { Keys: [{ pk: 'nodata#B' }] } },
      })
      .resolvesOnce({ Responses: { st: [{ ticker: 'B', session: SESSION }] } });
    mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    const memo = createNoDataMemo({
      client,
      tableName: 'st',
      maxRounds: 2,
      sleep: async () => undefined,
    });

    // Act + Assess
    expect(await memo.known(['A', 'B'], SESSION)).toEqual(new Set(['A', 'B']));
    expect(mock.commandCalls(BatchGetCommand)[1].args[0].input.RequestItems?.st.Keys).toEqual([
      { pk: 'nodata#B' },
    ]);
    await expect(memo.record(['A', 'B', 'C'], SESSION)).rejects.toThrow(
      '3 no-data memo items stayed unprocessed after 2 BatchWrite rounds',
    );
  });
});
