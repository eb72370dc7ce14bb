/**
 * Bad input during a night: malformed queue messages, unknown event shapes, messy ticker
 * symbols in positions, and an ambiguous portfolio name. Each case then runs (or is) a night and
 * checks every invariant: bad input must never cost good work.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
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

  const invalid = night.fanOut?.invalid as { count: number; examples: { positionId?: string }[] };
  rec.did(
    `${invalid.count} positions reported with an invalid ticker (by position id); "  msft ", "nvda\\t" and " brk.b" refreshed as MSFT, NVDA and BRK.B; ${describeNight(night)}`,
  );
  expect(invalid.count).toBe(5);
  expect(JSON.stringify(invalid.examples)).toContain('pos-growth-dollar');
  await checkNight(world, seeded, night, rec);
  rec.checked('5 invalid symbols reported with their position ids, their positions untouched');
});

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
