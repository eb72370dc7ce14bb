/**
 * One bad record costs one record: positions the portfolio API stored badly (no shares, a cost
 * basis of "n/a", a missing or non-ASCII ticker, numbers as strings) are skipped at the
 * repository against dynalite, counted and named, while every sound position, also of the same
 * ticker, is still read and priced; the broken items are left exactly as they were.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, NumberValue } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createPortfolioRepository } from '../../../lambdas/portfolios/portfolio-repository';
import { reportInvalidRecords } from '../../../lambdas/portfolios/records';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';

jest.setTimeout(60_000);

let dynamo: LocalDynamo;
let doc: DynamoDBDocumentClient;

const SOUND = ['ok-nvda-1', 'ok-nvda-2', 'ok-aapl'];
const BROKEN: Record<string, Record<string, unknown>> = {
  'bad-no-shares': { ticker: 'NVDA', costBasis: 100 },
  'bad-cost-na': { ticker: 'NVDA', shares: 1, costBasis: 'n/a' },
  'bad-no-ticker': { shares: 1, costBasis: 1 }, // (a number cannot be stored: ticker is an index key)
  'bad-ticker-dotless-i': { ticker: 'ıbm', shares: 1, costBasis: 1 },
  'bad-shares-string': { ticker: 'AAPL', shares: '10', costBasis: 1 },
};

const put = (Item: Record<string, unknown>) =>
  dynamo.client.send(
    new PutItemCommand({
      TableName: dynamo.names.positions,
      Item: marshall(Item, { removeUndefinedValues: true }),
    }),
  );
const raw = async (id: string) =>
  (
    await dynamo.client.send(
      new GetItemCommand({ TableName: dynamo.names.positions, Key: { id: { S: id } } }),
    )
  ).Item;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { unmarshallOptions: { wrapNumbers: true } },
  );
  await dynamo.client.send(
    new PutItemCommand({
      TableName: dynamo.names.portfolios,
      Item: marshall({ id: 'p-1', userId: 'u-1', name: 'Mixed', isActive: true }),
    }),
  );
  await put({ id: 'ok-nvda-1', portfolioId: 'p-1', ticker: 'NVDA', shares: 10, costBasis: 1200 });
  await put({ id: 'ok-nvda-2', portfolioId: 'p-1', ticker: ' nvda', shares: 2.5, costBasis: 450 });
  await put({ id: 'ok-aapl', portfolioId: 'p-1', ticker: 'AAPL', shares: 8, costBasis: 1500 });
  for (const [id, fields] of Object.entries(BROKEN))
    await put({ id, portfolioId: 'p-1', ...fields });
});

afterAll(async () => {
  doc?.destroy();
  await dynamo?.close();
});

function repository() {
  const counts = new Map<string, number>();
  const warned: Record<string, unknown>[] = [];
  const repo = createPortfolioRepository({
    client: doc,
    portfoliosTable: dynamo.names.portfolios,
    positionsTable: dynamo.names.positions,
    now: () => Date.parse('2026-11-24T04:35:00.000Z'),
    onInvalid: reportInvalidRecords({
      count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
      log: (level, _message, data) => {
        if (level === 'warn' && data) warned.push(data);
      },
    }),
  });
  return { repo, counts, warned };
}

describe('a portfolio holding broken positions', () => {
  it('reads only the sound positions and names each broken one once', async () => {
    const { repo, counts, warned } = repository();

    const positions = await repo.positionsOf('p-1');

    expect(positions.map((p) => p.id).sort()).toEqual([...SOUND].sort());
    expect(counts.get('InvalidPositions')).toBe(Object.keys(BROKEN).length);
    expect(warned.map((w) => w.positionId).sort()).toEqual(Object.keys(BROKEN).sort());
    expect(warned.find((w) => w.positionId === 'bad-cost-na')).toEqual({
      positionId: 'bad-cost-na',
      portfolioId: 'p-1',
      reason: 'costBasis "n/a" is not a number',
    });
    expect(warned.find((w) => w.positionId === 'bad-ticker-dotless-i')?.reason).toMatch(
      /^ticker "ıbm" is not a ticker/,
    );
  });

  it('prices every sound position, also of a ticker a broken one holds, and leaves the broken ones untouched', async () => {
    const { repo, counts } = repository();
    const before = Object.fromEntries(
      await Promise.all(Object.keys(BROKEN).map(async (id) => [id, await raw(id)] as const)),
    );

    const summary = await repo.reprice(
      new Map([
        ['NVDA', { price: 180.5, asOf: '2026-11-23' }],
        ['AAPL', { price: 230.25, asOf: '2026-11-23' }],
        ['IBM', { price: 300, asOf: '2026-11-23' }],
      ]),
    );

    expect(summary).toEqual({ updated: 3, deleted: 0, moved: 0, conflicts: 0 });
    expect(counts.get('InvalidPositions')).toBe(Object.keys(BROKEN).length);
    expect((await raw('ok-nvda-1'))?.marketValue).toEqual({ N: '1805' });
    expect((await raw('ok-nvda-2'))?.unrealizedPL).toEqual({ N: '1.25' });
    expect((await raw('ok-aapl'))?.currentPrice).toEqual({ N: '230.25' });
    for (const id of Object.keys(BROKEN)) expect(await raw(id)).toEqual(before[id]);
  });

  it('is still listed among the active portfolios with its sound positions', async () => {
    const { repo } = repository();
    const [held] = await repo.activePositions();
    expect(held.portfolio.id).toBe('p-1');
    expect(held.positions).toHaveLength(SOUND.length);
    expect(held.positions.every((p) => NumberValue.from(p.shares).value === p.shares)).toBe(true);
  });
});
