import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { batchGetAll, batchPutAll, queryUpTo } from '../../../lambdas/platform/dynamo';

/** A document client whose `send` is mocked (no server behind it). */
const mocked = () => {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  return { client, mock: mockClient(client) };
};

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: `k${i}` }));
const put = (item: Record<string, unknown>) => ({ PutRequest: { Item: item } });

describe('batchPutAll', () => {
  it('writes batches of 25 in order, re-sending unprocessed items after a growing wait', async () => {
    // Prepare: the first batch comes back with 3, then 1 unprocessed item.
    const { client, mock } = mocked();
    const all = items(30);
    mock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: all.slice(0, 3).map(put) } })
      .resolvesOnce({ UnprocessedItems: { t: all.slice(2, 3).map(put) } })
      .resolves({});
    const sleeps: number[] = [];

    // Act
    const requests = await batchPutAll(
      client,
      't',
      all,
      { what: 'rows' },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    );

    // Assess: full jitter at 0.5 of the ceilings 100 ms and 200 ms.
    const sent = mock
      .commandCalls(BatchWriteCommand)
      .map((c) => (c.args[0].input.RequestItems?.t ?? []).map((w) => w.PutRequest?.Item?.pk));
    expect(sent).toEqual([
      all.slice(0, 25).map((i) => i.pk),
      ['k0', 'k1', 'k2'],
      ['k2'],
      all.slice(25).map((i) => i.pk),
    ]);
    expect(requests).toBe(4);
    expect(sleeps).toEqual([50, 100]);
  });

  it('fails, naming the count and the rounds, when items stay unprocessed', async () => {
    // Prepare
    const { client, mock } = mocked();
    mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));

    // Act + Assess
    await expect(
      batchPutAll(
        client,
        't',
        items(7),
        { what: 'rows', note: '; retried later' },
        { maxRounds: 3, sleep: async () => undefined },
      ),
    ).rejects.toThrow('7 rows stayed unprocessed after 3 BatchWrite rounds; retried later');
    expect(mock.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('sends nothing for no items', async () => {
    const { client, mock } = mocked();
    expect(await batchPutAll(client, 't', [], { what: 'rows' })).toBe(0);
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('batchGetAll', () => {
  it('asks 100 keys at a time with the projection, and re-requests only the unprocessed ones', async () => {
    // Prepare: the first request leaves one key unprocessed.
    const { client, mock } = mocked();
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: [{ pk: 'k0' }] },
        UnprocessedKeys: { t: { Keys: [{ pk: 'k1' }] } },
      })
      .resolves({ Responses: { t: [{ pk: 'k1' }] } });
    const sleeps: number[] = [];

    // Act
    const got = await batchGetAll(
      client,
      { tableName: 't', keys: items(101), ProjectionExpression: 'pk' },
      { what: 'keys' },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    );

    // Assess
    const calls = mock.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.t);
    expect(calls.map((c) => c?.Keys?.length)).toEqual([100, 1, 1]);
    expect(calls[0]?.ProjectionExpression).toBe('pk');
    expect(calls[1]?.Keys).toEqual([{ pk: 'k1' }]);
    expect(got).toEqual([{ pk: 'k0' }, { pk: 'k1' }, { pk: 'k1' }]);
    expect(sleeps).toEqual([50]);
  });

  it('fails, naming the count, when keys stay unprocessed', async () => {
    // Prepare
    const { client, mock } = mocked();
    mock.on(BatchGetCommand).resolves({ UnprocessedKeys: { t: { Keys: [{ pk: 'k0' }] } } });

    // Act + Assess
    await expect(
      batchGetAll(
        client,
        { tableName: 't', keys: items(1) },
        { what: 'keys' },
        { maxRounds: 2, sleep: async () => undefined },
      ),
    ).rejects.toThrow('1 keys stayed unprocessed after 2 BatchGet rounds');
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(2);
  });
});

describe('queryUpTo', () => {
  it('follows pages until it has `limit` items and sends no further request', async () => {
    // Prepare: a first page cut short (1 MB), a second page that fills the limit and has more.
    const { client, mock } = mocked();
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: items(2), LastEvaluatedKey: { pk: 'k1' } })
      .resolvesOnce({ Items: items(3), LastEvaluatedKey: { pk: 'k2' } })
      .resolves({ Items: items(9) });

    // Act
    const got = await queryUpTo(client, { TableName: 't', KeyConditionExpression: 'x' }, 4);

    // Assess
    const inputs = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({ TableName: 't', Limit: 4 });
    expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'k1' });
    expect(got).toHaveLength(4);
  });

  it('stops at the last page', async () => {
    const { client, mock } = mocked();
    mock.on(QueryCommand).resolves({ Items: items(1) });
    expect(await queryUpTo(client, { TableName: 't' }, 10)).toEqual(items(1));
    expect(mock.commandCalls(QueryCommand)).toHaveLength(1);
  });
});
