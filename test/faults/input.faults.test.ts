/**
 * Bad input during a night: malformed queue messages, unknown event shapes, messy ticker
 * symbols in positions, and an ambiguous portfolio name. Each case then runs (or is) a night and
 * checks every invariant: bad input must never cost good work.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, NumberValue, PutCommand } from '@aws-sdk/lib-dynamodb';
import { nextTradingDay } from '../../lambdas/market-data/domain/market-calendar';
import { depth } from '../../sim/queue-poller';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import {
  CORE,
  GROWTH,
  USER_A,
  invokeDirect,
  standardSeed,
  useWorld,
  rowsOf,
  type Night,
  type World,
} from './harness/world';

let world: World;
useWorld('input', (w) => (world = w));

const send = (queueUrl: string, body: string) =>
  world.sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

faultCase('B01', async (rec) => {
  const seeded = await world.seed();
  const junk = 'x'.repeat(200_000);
  const tickerBodies = [
    'not json',
    '{"v":2,"kind":"refresh"}',
    '{"v":1,"kind":"refresh","runId":"r","session":"2026-13-45","tickers":["a b"]}',
    junk,
  ];
  const analysisBodies = ['not json', '{"v":1}', '{"v":1,"portfolioId":42}', junk];
  for (const b of tickerBodies) await send(world.queues.tickers.queueUrl, b);
  for (const b of analysisBodies) await send(world.queues.analysis.queueUrl, b);

  const night = await world.night();

  const logged = night.records.filter(
    (r) => r.level === 'ERROR' && /^Malformed/.test(r.message) && typeof r.messageId === 'string',
  );
  rec.did(
    `${logged.length} malformed messages logged at ERROR with their messageId and acknowledged; ${describeNight(night)}`,
  );
  expect(logged).toHaveLength(8);
  expect(new Set(logged.map((r) => r.messageId)).size).toBe(8);
  expect(night.lines.join('\n')).not.toContain(junk.slice(0, 1000));
  await checkNight(world, seeded, night, rec, { malformed: 8 });
  rec.checked('each malformed body logged once by messageId (the body itself not logged)');
});

faultCase('B02', async (rec) => {
  const seeded = await world.seed();
  const finish = world.observe();
  const shapes: [keyof World['handlers'], unknown][] = [];
  for (const fn of Object.keys(world.handlers) as (keyof World['handlers'])[])
    for (const event of [{ foo: 1 }, [], 'x', null, { Records: [] }]) shapes.push([fn, event]);
  shapes.push(['processTickers', { tickers: 'AAPL' }]);
  shapes.push(['processTicker', { ticker: 42 }]);
  shapes.push(['processTicker', { ticker: 'BR K' }]);
  shapes.push(['analyzePortfolio', { portfolio_id: '' }]);
  shapes.push(['analyzePortfolio', { portfolio_id: CORE, force: 'yes' }]);

  const outcomes = [];
  for (const [fn, event] of shapes)
    outcomes.push({ fn, event, ...(await invokeDirect(world, fn, event)) });

  const refused = outcomes.filter(
    (o) => o.error?.name === 'InvalidEventError' && /Expected one of: /.test(o.error.message),
  );
  rec.did(
    `${refused.length} of ${shapes.length} events refused with InvalidEventError naming the accepted shapes`,
  );
  expect(
    outcomes
      .filter((o) => !refused.includes(o))
      .map((o) => [o.fn, o.event, o.error?.message ?? o.result]),
  ).toEqual([]);
  for (const url of [world.queues.tickers.queueUrl, world.queues.analysis.queueUrl])
    expect(await depth(world.sqs.client, url)).toBe(0);
  rec.checked('every unknown shape refused', 'nothing queued');

  // Then an ordinary night: nothing the bad events did may show.
  const night = await world.nightParts();
  await checkNight(world, seeded, finish(night), rec);
});

faultCase('B03', async (rec) => {
  const seeded = await world.seed(
    standardSeed({
      positions: [
        {
          id: 'pos-core-spaced',
          portfolioId: CORE,
          ticker: '  msft ',
          shares: '1',
          costBasis: '300',
        },
        { id: 'pos-core-tab', portfolioId: CORE, ticker: 'nvda\t', shares: '2', costBasis: '200' },
        {
          id: 'pos-growth-dot',
          portfolioId: GROWTH,
          ticker: ' brk.b',
          shares: '3',
          costBasis: '30',
        },
        {
          id: 'pos-growth-space',
          portfolioId: GROWTH,
          ticker: 'BR K',
          shares: '1',
          costBasis: '1',
        },
        {
          id: 'pos-growth-dollar',
          portfolioId: GROWTH,
          ticker: '$$$',
          shares: '1',
          costBasis: '1',
        },
        { id: 'pos-growth-empty', portfolioId: GROWTH, ticker: '', shares: '1', costBasis: '1' },
        {
          id: 'pos-growth-long',
          portfolioId: GROWTH,
          ticker: 'TOOLONGTICKER',
          shares: '1',
          costBasis: '1',
        },
        { id: 'pos-growth-emoji', portfolioId: GROWTH, ticker: '🚀', shares: '1', costBasis: '1' },
      ],
    }),
  );

  const night = await world.night();

  // The invalid symbols are skipped at the repository (the one edge of portfolio-api's tables):
  // counted as InvalidPositions and named in WARN lines by every function that reads them.
  const invalidIds = [
    'pos-growth-space',
    'pos-growth-dollar',
    'pos-growth-empty',
    'pos-growth-long',
    'pos-growth-emoji',
  ];
  const named = skippedPositionIds(night);
  rec.did(
    `${named.size} positions skipped for an invalid ticker and named by id in WARN lines (InvalidPositions ${night.metrics.InvalidPositions ?? 0} over the night's functions); "  msft ", "nvda\\t" and " brk.b" refreshed as MSFT, NVDA and BRK.B; ${describeNight(night)}`,
  );
  expect([...named].sort()).toEqual([...invalidIds].sort());
  expect(night.metrics.InvalidPositions).toBeGreaterThanOrEqual(invalidIds.length);
  expect(night.fanOut?.invalid).toEqual({ count: 0, examples: [] });
  await checkNight(world, seeded, night, rec);
  rec.checked('5 invalid symbols skipped and named by position id, their positions untouched');
});

/** The ids of the positions WARN lines said were skipped as unusable. */
function skippedPositionIds(night: Night): Set<string> {
  return new Set(
    night.records
      .filter((r) => r.level === 'WARN' && /^Position skipped/.test(r.message))
      .map((r) => String(r.positionId)),
  );
}

faultCase('B04', async (rec) => {
  const seeded = await world.seed(
    standardSeed({
      portfolios: [{ id: 'p-00000000-0000-4000-8000-0000000gr02', userId: USER_A, name: 'Growth' }],
      positions: [
        {
          id: 'pos-growth2-msft',
          portfolioId: 'p-00000000-0000-4000-8000-0000000gr02',
          ticker: 'MSFT',
          shares: '1',
          costBasis: '400',
        },
      ],
    }),
  );
  const finish = world.observe();
  const xaiBefore = world.xai.requests.length;

  const { error } = await invokeDirect(world, 'analyzePortfolio', { portfolio_name: 'Growth' });

  rec.did(`refused: ${error?.message.replace(/p-[0-9a-z-]+/g, '<id>')}`);
  expect(error?.message).toContain(GROWTH);
  expect(error?.message).toContain('p-00000000-0000-4000-8000-0000000gr02');
  expect(error?.message).toContain('portfolio_id');
  expect(world.xai.requests.length).toBe(xaiBefore);
  rec.checked('both ids listed, and how to choose', 'no xAI call');
  const night = await world.nightParts();
  await checkNight(world, seeded, finish(night), rec);
});

faultCase('B05', async (rec) => {
  const seeded = await world.seed();
  // Written as the portfolio API might: next to sound lots of NVDA, AAPL and AMZN.
  const n = (v: string) => NumberValue.from(v);
  const broken: Record<string, Record<string, unknown>> = {
    'pos-core-no-shares': { portfolioId: CORE, ticker: 'NVDA', costBasis: n('100') },
    'pos-core-cost-na': { portfolioId: CORE, ticker: 'AAPL', shares: n('1'), costBasis: 'n/a' },
    'pos-growth-shares-text': {
      portfolioId: GROWTH,
      ticker: 'amzn',
      shares: 'ten',
      costBasis: n('10'),
    },
    'pos-growth-dotless-i': {
      portfolioId: GROWTH,
      ticker: 'ıbm',
      shares: n('1'),
      costBasis: n('1'),
    },
  };
  const ids = Object.keys(broken);
  for (const id of ids)
    await world.doc.send(
      new PutCommand({ TableName: world.names.positions, Item: { id, ...broken[id] } }),
    );
  const read = (id: string) =>
    world.doc
      .send(new GetCommand({ TableName: world.names.positions, Key: { id }, ConsistentRead: true }))
      .then((o) => JSON.stringify(o.Item));
  const before = await Promise.all(ids.map(read));

  const night = await world.night();

  const named = skippedPositionIds(night);
  rec.did(
    `${named.size} broken positions skipped and named by id in WARN lines (InvalidPositions ${night.metrics.InvalidPositions ?? 0} over the night's functions), left as they were; ${describeNight(night)}`,
  );
  expect([...named].sort()).toEqual([...ids].sort());
  expect(night.metrics.InvalidPositions).toBeGreaterThanOrEqual(ids.length);
  expect(night.fanOutError).toBeUndefined();
  expect(night.tickerDrain?.failures).toBe(0);
  expect(night.analysisDrain?.failures).toBe(0);
  expect(await Promise.all(ids.map(read))).toEqual(before);
  expect(await rowsOf(world, 'IBM')).toEqual([]);
  // The invariants: every sound position priced exactly (also the NVDA, AAPL and AMZN lots),
  // both portfolios analysed, no DLQ message, no job failed.
  await checkNight(world, seeded, night, rec, { brokenPositions: ids });
  rec.checked(
    'each broken position skipped, counted and named by id, and left untouched',
    '"ıbm" not read as IBM',
  );
});

faultCase('B06', async (rec) => {
  const seeded = await world.seed();
  const session = seeded.session;
  const saturday = (() => {
    let d = Date.parse(`${session}T00:00:00Z`);
    while (new Date(d).getUTCDay() !== 6) d -= 86_400_000;
    return new Date(d).toISOString().slice(0, 10);
  })();
  const notYetTraded = nextTradingDay(
    new Date(Date.parse(`${session}T00:00:00Z`) + 10 * 86_400_000).toISOString().slice(0, 10),
  );
  const job = (over: Record<string, unknown>) =>
    JSON.stringify({
      v: 1,
      kind: 'refresh',
      runId: 'forged',
      session,
      tickers: ['NVDA', 'AAPL'],
      done: [],
      deferrals: 0,
      ...over,
    });
  const forgedCalls = Array.from({ length: 5_000 }, () => ({
    kind: 'grouped',
    date: '1999-01-04',
  }));
  const bodies = [
    job({ session: '2024-13-45' }),
    job({ session: saturday }),
    job({ session: notYetTraded }),
    job({ plan: { strategy: 'grouped', calls: forgedCalls } }),
    job({ deferrals: 1_000_000 }),
  ];
  for (const b of bodies) await send(world.queues.tickers.queueUrl, b);

  const night = await world.night();

  const logged = night.records.filter(
    (r) => r.level === 'ERROR' && /^Malformed/.test(r.message) && typeof r.messageId === 'string',
  );
  const forgedRequests = night.polygonRequests.filter((r) =>
    [saturday, notYetTraded, '1999-01-04', '2024-13-45'].some((d) => r.path.includes(d)),
  );
  rec.did(
    `${logged.length} corrupted jobs dropped as malformed (ERROR with messageId, not retried), ${forgedRequests.length} Polygon requests spent on them; ${describeNight(night)}`,
  );
  expect(logged).toHaveLength(bodies.length);
  expect(new Set(logged.map((r) => r.messageId)).size).toBe(bodies.length);
  expect(forgedRequests).toEqual([]);
  expect(night.records.some((r) => /RangeError/.test(JSON.stringify(r)))).toBe(false);
  await checkNight(world, seeded, night, rec, { malformed: bodies.length });
  rec.checked(
    'each corrupted job dropped once as malformed, by messageId',
    'no Polygon call and no retry spent on it',
  );
});
