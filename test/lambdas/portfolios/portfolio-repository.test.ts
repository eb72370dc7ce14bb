/**
 * The portfolio reader's look-ups for the analysis (by id, by name, has-positions) against
 * dynalite; the paged scan and query shared with market-data are covered in
 * test/lambdas/market-data/adapters/market-data.adapters.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, NumberValue, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPortfolioRepository } from '../../../lambdas/portfolios/portfolio-repository';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';

jest.setTimeout(60_000);

let dynamo: LocalDynamo;
let doc: DynamoDBDocumentClient;

/** Commands of each kind sent, each forced to pages of two items. */
const sent = { ScanCommand: 0, QueryCommand: 0, GetCommand: 0 };

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
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName as keyof typeof sent;
      if (name in sent) {
        sent[name]++;
        const input = args.input as { Limit?: number };
        input.Limit ??= 2;
      }
      return next(args);
    },
    { step: 'initialize', name: 'smallPages' },
  );
  const portfolios = [
    { id: 'n-1', userId: 'u1', name: 'Growth', isActive: true },
    { id: 'n-2', userId: 'u2', name: 'Growth', isActive: false },
    { id: 'n-3', userId: 'u3', name: 'Income' },
    { id: 'n-4', userId: 'u4', name: 'Other' },
    { id: 'n-5', userId: 'u5', name: 'Odd types', isActive: 'yes' },
  ];
  for (const Item of portfolios) {
    await doc.send(new PutCommand({ TableName: dynamo.names.portfolios, Item }));
  }
  await doc.send(
    new PutCommand({
      TableName: dynamo.names.positions,
      Item: {
        id: 'pos-1',
        portfolioId: 'n-1',
        ticker: 'NVDA',
        shares: NumberValue.from('1'),
        costBasis: NumberValue.from('10'),
      },
    }),
  );
});

afterAll(async () => {
  doc?.destroy();
  await dynamo?.close();
});

const repo = () =>
  createPortfolioRepository({
    client: doc,
    portfoliosTable: dynamo.names.portfolios,
    positionsTable: dynamo.names.positions,
    onInvalid: (r) => {
      throw new Error(`unexpected unusable ${r.kind} ${r.id}: ${r.reason}`);
    },
  });

describe('PortfolioRepository look-ups', () => {
  it('finds every portfolio of a name across all scan pages, active or not', async () => {
    // Prepare
    const before = sent.ScanCommand;

    // Act
    const found = await repo().findPortfoliosByName('Growth');

    // Assess
    expect(found.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
      { id: 'n-1', userId: 'u1', name: 'Growth', isActive: true },
      { id: 'n-2', userId: 'u2', name: 'Growth', isActive: false },
    ]);
    expect(sent.ScanCommand - before).toBeGreaterThanOrEqual(3);
  });

  it('reads one portfolio by id, keeping only well-typed attributes', async () => {
    // Act
    const one = await repo().getPortfolio('n-3');
    const odd = await repo().getPortfolio('n-5');
    const none = await repo().getPortfolio('missing');

    // Assess
    expect(one).toEqual({ id: 'n-3', userId: 'u3', name: 'Income', isActive: undefined });
    expect(odd).toEqual({ id: 'n-5', userId: 'u5', name: 'Odd types', isActive: undefined });
    expect(none).toBeUndefined();
  });

  it('says whether a portfolio has positions with a one-item query', async () => {
    // Act
    const held = await repo().hasPositions('n-1');
    const empty = await repo().hasPositions('n-3');

    // Assess
    expect(held).toBe(true);
    expect(empty).toBe(false);
  });

  it('leaves out only portfolios whose isActive is false', async () => {
    // Act
    const active = await repo().activePortfolios();

    // Assess
    expect(active.map((p) => p.id).sort()).toEqual(['n-1', 'n-3', 'n-4', 'n-5']);
  });
});
