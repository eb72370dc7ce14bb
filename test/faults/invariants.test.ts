/**
 * The invariant checks are live: after a clean night they pass, and each kind of damage the
 * fault cases look for makes them fail with a sentence naming it.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { NumberValue, PutCommand, UpdateCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { sessionCloseIso } from '../../lambdas/platform/ny-time';
import { faultCaseSpec } from './harness/catalogue';
import { checkNight } from './harness/invariants';
import { CaseRecorder } from './harness/recorder';
import {
  CORE,
  rowsOf,
  scanAll,
  startWorld,
  type Night,
  type Seeded,
  type World,
} from './harness/world';

let world: World;
let seeded: Seeded;
let night: Night;

beforeAll(async () => {
  world = await startWorld('invariants');
  await world.reset();
  seeded = await world.seed();
  night = await world.night();
}, 120_000);
afterAll(() => world?.close());

/** The problems checkNight reports now ('' when it passes). */
const problems = async (n: Night = night): Promise<string> => {
  try {
    await checkNight(world, seeded, n, new CaseRecorder(faultCaseSpec('P01')));
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

it('pass after a clean night', async () => {
  expect(await problems()).toBe('');
});

it('name an API key printed in the logs', async () => {
  const leaked = { ...night, lines: [...night.lines, `debug: key=${world.keys.xai}`] };
  expect(await problems(leaked)).toContain('the xai API key appears in the log output');
  expect(await problems()).toBe('');
});

it('name a price off by one cent', async () => {
  const [position] = (await scanAll(world, world.names.positions)).filter(
    (p) => p.id === 'pos-core-aapl',
  );
  const price = String(position.currentPrice);
  await world.doc.send(
    new UpdateCommand({
      TableName: world.names.positions,
      Key: { id: 'pos-core-aapl' },
      UpdateExpression: 'SET currentPrice = :p',
      ExpressionAttributeValues: { ':p': NumberValue.from((Number(price) + 0.01).toFixed(2)) },
    }),
  );
  expect(await problems()).toContain('position pos-core-aapl currentPrice is');
  await world.doc.send(
    new UpdateCommand({
      TableName: world.names.positions,
      Key: { id: 'pos-core-aapl' },
      UpdateExpression: 'SET currentPrice = :p',
      ExpressionAttributeValues: { ':p': NumberValue.from(price) },
    }),
  );
  expect(await problems()).toBe('');
});

it('name a phantom position', async () => {
  const Item = { id: 'pos-phantom', portfolioId: CORE, ticker: 'AAPL', shares: 1, costBasis: 1 };
  await world.doc.send(new PutCommand({ TableName: world.names.positions, Item }));
  expect(await problems()).toContain('phantom position pos-phantom');
  await world.doc.send(
    new DeleteCommand({ TableName: world.names.positions, Key: { id: 'pos-phantom' } }),
  );
});

it('name a duplicate ticker-data row and a lost ticker', async () => {
  const [row] = (await rowsOf(world, 'MSFT')).filter((r) => r.asOf === seeded.session);
  expect(row.timestamp).toBe(sessionCloseIso(seeded.session));
  const twin = { ...row, timestamp: `${seeded.session}T23:59:59.000Z` };
  await world.doc.send(new PutCommand({ TableName: world.names.tickerData, Item: twin }));
  expect(await problems()).toContain(`MSFT: 2 rows for ${seeded.session}`);
  await world.doc.send(
    new DeleteCommand({
      TableName: world.names.tickerData,
      Key: { ticker: 'MSFT', timestamp: twin.timestamp },
    }),
  );
  await world.doc.send(
    new DeleteCommand({
      TableName: world.names.tickerData,
      Key: { ticker: 'MSFT', timestamp: row.timestamp },
    }),
  );
  expect(await problems()).toContain('MSFT was silently lost');
  await world.doc.send(new PutCommand({ TableName: world.names.tickerData, Item: row }));
  expect(await problems()).toBe('');
});

it('name a duplicate analysis', async () => {
  const [newest] = (await scanAll(world, world.names.analyses))
    .filter((a) => a.portfolio === CORE)
    .sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
  const twin = { ...newest, timestamp: new Date(Date.parse(newest.timestamp) + 1).toISOString() };
  await world.doc.send(new PutCommand({ TableName: world.names.analyses, Item: twin }));
  expect(await problems()).toContain(`2 analyses for ${CORE} ${seeded.session}`);
  await world.doc.send(
    new DeleteCommand({
      TableName: world.names.analyses,
      Key: { portfolio: CORE, timestamp: twin.timestamp },
    }),
  );
});

it('name a good job in the DLQ and a message left waiting', async () => {
  const job = { v: 1, kind: 'refresh', runId: 'r', session: seeded.session, tickers: ['AAPL'] };
  await world.sqs.client.send(
    new SendMessageCommand({
      QueueUrl: world.queues.tickers.dlqUrl,
      MessageBody: JSON.stringify(job),
    }),
  );
  await world.sqs.client.send(
    new SendMessageCommand({ QueueUrl: world.queues.analysis.queueUrl, MessageBody: '{}' }),
  );
  const found = await problems();
  expect(found).toContain("a good ticker's job is in the DLQ: AAPL");
  expect(found).toContain('message(s) left waiting in portfolio-analysis-queue');
});
