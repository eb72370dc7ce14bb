import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  startDynamoFaultProxy,
  type DynamoFault,
  type DynamoFaultProxy,
} from '../../sim/dynamo-fault-proxy';
import { startLocalDynamo, type LocalDynamo } from '../../sim/local-dynamo';

jest.setTimeout(120_000);

let dynamo: LocalDynamo;
let proxy: DynamoFaultProxy;
/** Straight to dynalite, bypassing the proxy. */
let direct: DynamoDBDocumentClient;
/** Through the proxy, no SDK retries. */
let viaProxy: DynamoDBDocumentClient;
/** Through the proxy, the SDK's default retries (3 attempts). */
let viaProxyRetrying: DynamoDBDocumentClient;
let table: string;

const clientOn = (endpoint: string, maxAttempts?: number) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...(maxAttempts ? { maxAttempts } : {}),
    }),
  );

const rowsOf = async (ticker: string) =>
  (
    await direct.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'ticker = :t',
        ExpressionAttributeValues: { ':t': ticker },
      }),
    )
  ).Items ?? [];

const rows = (ticker: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    ticker,
    timestamp: `2026-11-${String(i + 1).padStart(2, '0')}`,
    close: i,
  }));

const batchOf = (items: Record<string, unknown>[]) =>
  new BatchWriteCommand({
    RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
  });

const throttle: DynamoFault = { kind: 'error', type: 'ThrottlingException' };

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  table = dynamo.names.tickerData;
  proxy = await startDynamoFaultProxy(dynamo.endpoint);
  direct = DynamoDBDocumentClient.from(dynamo.client);
  viaProxy = clientOn(proxy.endpoint, 1);
  viaProxyRetrying = clientOn(proxy.endpoint);
});

afterEach(() => proxy.clearRules());

afterAll(async () => {
  viaProxy?.destroy();
  viaProxyRetrying?.destroy();
  await proxy?.close();
  await dynamo?.close();
});

describe('DynamoDB fault proxy', () => {
  it('forwards requests unchanged when no rule matches', async () => {
    const from = proxy.requests.length;
    const Item = { ticker: 'FWD', timestamp: '2026-11-20', close: 181.25, tags: ['a', 'b'] };
    await viaProxy.send(new PutCommand({ TableName: table, Item }));
    const got = await viaProxy.send(
      new GetCommand({ TableName: table, Key: { ticker: 'FWD', timestamp: '2026-11-20' } }),
    );
    expect(got.Item).toEqual(Item);
    expect(await rowsOf('FWD')).toEqual([Item]);
    expect(proxy.requests.slice(from)).toEqual([
      {
        operation: 'PutItem',
        tables: [table],
        body: expect.objectContaining({ TableName: table }),
      },
      {
        operation: 'GetItem',
        tables: [table],
        body: expect.objectContaining({ TableName: table }),
      },
    ]);
  });

  it('answers part of a BatchWriteItem back as UnprocessedItems, the rest is written', async () => {
    proxy.addRule({ operation: 'BatchWriteItem', fault: { kind: 'unprocessed', fraction: 0.5 } });
    const items = rows('BATCH', 10);
    const first = await viaProxy.send(batchOf(items));

    const unprocessed = first.UnprocessedItems?.[table] ?? [];
    expect(unprocessed.map((w) => w.PutRequest?.Item)).toEqual(items.slice(5));
    expect(await rowsOf('BATCH')).toEqual(items.slice(0, 5));
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'unprocessed', unprocessed: 5 });

    proxy.clearRules();
    const retry = await viaProxy.send(
      new BatchWriteCommand({ RequestItems: { [table]: unprocessed } }),
    );
    expect(retry.UnprocessedItems ?? {}).toEqual({});
    expect(await rowsOf('BATCH')).toEqual(items);
  });

  it('answers a whole batch unprocessed, without forwarding, when fraction is 1', async () => {
    proxy.addRule({ operation: 'BatchWriteItem', fault: { kind: 'unprocessed', fraction: 1 } });
    const items = rows('BATCH-ALL', 3);
    const out = await viaProxy.send(batchOf(items));
    expect(out.UnprocessedItems?.[table]).toHaveLength(3);
    expect(await rowsOf('BATCH-ALL')).toEqual([]);
    expect(() =>
      proxy.addRule({ operation: 'PutItem', fault: { kind: 'unprocessed', fraction: 1 } }),
    ).toThrow(/BatchWriteItem/);
  });

  it('answers the errors of AWS, which the SDK surfaces (and retries)', async () => {
    proxy.addRule({ operation: 'PutItem', fault: throttle });
    const Item = { ticker: 'THROTTLE', timestamp: '2026-11-20' };
    const err = await viaProxy.send(new PutCommand({ TableName: table, Item })).catch((e) => e);
    expect(err).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate of requests exceeds the allowed throughput.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(await rowsOf('THROTTLE')).toEqual([]);

    const cases = [
      ['ProvisionedThroughputExceededException', 400, 'client'],
      ['RequestLimitExceeded', 400, 'client'],
      ['InternalServerError', 500, 'server'],
    ] as const;
    for (const [type, httpStatusCode, $fault] of cases) {
      proxy.clearRules();
      proxy.addRule({ operation: 'PutItem', fault: { kind: 'error', type } });
      const e = await viaProxy.send(new PutCommand({ TableName: table, Item })).catch((x) => x);
      expect(e).toMatchObject({ name: type, $fault, $metadata: { httpStatusCode } });
    }

    // The SDK retries ThrottlingException: two throttles, then the third attempt lands.
    proxy.clearRules();
    proxy.addRule({ operation: 'PutItem', times: 2, fault: throttle });
    const from = proxy.requests.length;
    const ok = await viaProxyRetrying.send(new PutCommand({ TableName: table, Item }));
    expect(ok.$metadata.attempts).toBe(3);
    expect(proxy.requests.slice(from).map((r) => r.fault)).toEqual(['error', 'error', undefined]);
    expect(await rowsOf('THROTTLE')).toEqual([Item]);
  });

  it('holds a request after applying it, the caller never gets an answer', async () => {
    const holding = await startDynamoFaultProxy(dynamo.endpoint);
    const client = clientOn(holding.endpoint, 1);
    try {
      holding.addRule({ operation: 'PutItem', fault: { kind: 'hold' } });
      const Item = { ticker: 'HOLD', timestamp: '2026-11-20' };
      let settled = false;
      const pending = client.send(new PutCommand({ TableName: table, Item })).finally(() => {
        settled = true;
      });
      pending.catch(() => undefined);

      const held = await holding.nextHold();
      expect(held).toMatchObject({ operation: 'PutItem', tables: [table], fault: 'hold' });
      expect(await rowsOf('HOLD')).toEqual([Item]);
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false);

      await holding.close();
      await expect(pending).rejects.toThrow();
    } finally {
      client.destroy();
      await holding.close();
    }
  });

  it('runs a side effect before forwarding', async () => {
    const Key = { ticker: 'RACE', timestamp: '2026-11-20' };
    await direct.send(new PutCommand({ TableName: table, Item: { ...Key, close: 1 } }));
    const seen: string[] = [];
    proxy.addRule({
      operation: 'UpdateItem',
      fault: {
        kind: 'before',
        run: async (request) => {
          seen.push(request.operation);
          await direct.send(new DeleteCommand({ TableName: table, Key }));
        },
      },
    });
    const update = new UpdateCommand({
      TableName: table,
      Key,
      UpdateExpression: 'SET #c = :c',
      ConditionExpression: 'attribute_exists(ticker)',
      ExpressionAttributeNames: { '#c': 'close' },
      ExpressionAttributeValues: { ':c': 2 },
    });
    await expect(viaProxy.send(update)).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(seen).toEqual(['UpdateItem']);
    expect(await rowsOf('RACE')).toEqual([]);
  });

  it('counts `after` and `times` per rule and filters by table', async () => {
    proxy.addRule({ operation: 'PutItem', table, after: 1, times: 2, fault: throttle });
    proxy.addRule({ operation: 'TransactWriteItems', table, fault: throttle });
    const from = proxy.requests.length;
    const put = (TableName: string, Item: Record<string, unknown>) =>
      viaProxy.send(new PutCommand({ TableName, Item })).then(
        () => 'ok',
        (e: Error) => e.name,
      );
    const other = dynamo.names.portfolios;
    const outcomes = [
      await put(other, { id: 'p1' }), // another table: neither matches nor counts
      await put(table, { ticker: 'COUNT', timestamp: '1' }), // skipped (after: 1)
      await put(table, { ticker: 'COUNT', timestamp: '2' }), // throttled
      await put(other, { id: 'p2' }),
      await put(table, { ticker: 'COUNT', timestamp: '3' }), // throttled
      await put(table, { ticker: 'COUNT', timestamp: '4' }), // spent
    ];
    expect(outcomes).toEqual([
      'ok',
      'ok',
      'ThrottlingException',
      'ok',
      'ThrottlingException',
      'ok',
    ]);
    expect((await rowsOf('COUNT')).map((r) => r.timestamp)).toEqual(['1', '4']);

    const transact = (TableName: string, Item: Record<string, unknown>) =>
      viaProxy
        .send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName, Item } }] }))
        .then(
          () => 'ok',
          (e: Error) => e.name,
        );
    // dynalite has no transactions: a forwarded TransactWriteItems is answered UnknownOperation.
    expect(await transact(other, { id: 'p3' })).toBe('UnknownOperationException');
    expect(await transact(table, { ticker: 'COUNT', timestamp: '5' })).toBe('ThrottlingException');
    expect(proxy.requests.slice(from).map((r) => [r.operation, r.tables, r.fault])).toEqual([
      ['PutItem', [other], undefined],
      ['PutItem', [table], undefined],
      ['PutItem', [table], 'error'],
      ['PutItem', [other], undefined],
      ['PutItem', [table], 'error'],
      ['PutItem', [table], undefined],
      ['TransactWriteItems', [other], undefined],
      ['TransactWriteItems', [table], 'error'],
    ]);
  });
});
