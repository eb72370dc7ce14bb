/**
 * Polygon misbehaving during a whole night (see harness/world.ts for the setup and time
 * compression). Each case seeds the standard world, injects one fault, runs the night and
 * checks every invariant (harness/invariants.ts).
 */
import { NOT_AUTHORIZED_MESSAGE } from '../../sim/polygon-simulator';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import {
  CORE,
  GROWTH,
  scanAll,
  standardSeed,
  useWorld,
  withNewTickers,
  type World,
} from './harness/world';

let world: World;
useWorld('polygon', (w) => (world = w));

faultCase('P01', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({
    kind: 'status',
    status: 429,
    headers: { 'retry-after': '1' },
    times: 8,
  });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.deferrals.length).toBeGreaterThanOrEqual(1);
  expect(night.polygonRequests.filter((r) => r.status === 429).length).toBe(8);
  await checkNight(world, seeded, night, rec);
  rec.checked('deferred at least once, then 200');
});

faultCase('P02', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({ kind: 'status', status: 429, body: '', headers: {}, times: 8 });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.deferrals.map((d) => d.delaySeconds)).toContain(60);
  await checkNight(world, seeded, night, rec);
  rec.checked('deferral asked 60 s (no Retry-After to follow)');
});

faultCase('P03', async (rec) => {
  const seeded = await world.seed(withNewTickers('ZAAA', 'ZAAB'));
  world.polygon.setFault({ kind: 'fraction500', fraction: 0.1 });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.polygonRequests.some((r) => r.fault === 'fraction500')).toBe(true);
  await checkNight(world, seeded, night, rec);
  rec.checked('at least one 500 was injected');
});

faultCase('P04', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({ kind: 'reset', times: 2 });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.polygonRequests.filter((r) => r.fault === 'reset')).toHaveLength(2);
  await checkNight(world, seeded, night, rec);
  rec.checked('2 connections reset');
});

faultCase('P05', async (rec) => {
  const seeded = await world.seed();
  // The client timeout is 3 s here (20 s deployed); the first answer takes 5 s.
  world.polygon.setFault({ kind: 'delay', ms: 5_000, times: 1 });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.polygonRequests[0]).toMatchObject({ fault: 'delay' });
  await checkNight(world, seeded, night, rec);
  rec.checked('the slow request was abandoned and retried');
});

faultCase('P06', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({
    kind: 'status',
    status: 401,
    body: { status: 'ERROR', request_id: 'fault-suite', error: 'Unknown API Key' },
  });

  const night = await world.night();

  rec.did(describeNight(night));
  // One request per delivery (no retry of an auth failure), 5 deliveries before the DLQ.
  expect(night.polygonRequests.length).toBeLessThanOrEqual(5);
  expect(night.metrics.PolygonAuthErrors ?? 0).toBeGreaterThanOrEqual(1);
  const tickers = ['AAPL', 'AMZN', 'META', 'MSFT', 'NVDA', 'SPY'];
  await checkNight(world, seeded, night, rec, {
    failedTickers: tickers,
    // Nothing new to analyse: the previous session's analyses are already done.
    unanalysedPortfolios: [CORE, GROWTH],
  });
  rec.checked('at most one request per delivery', 'PolygonAuthErrors counted');
});

faultCase('P07', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({
    kind: 'status',
    status: 403,
    body: { status: 'NOT_AUTHORIZED', request_id: 'fault-suite', message: NOT_AUTHORIZED_MESSAGE },
    times: 1,
  });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.deferrals.map((d) => d.delaySeconds)).toEqual([900]);
  await checkNight(world, seeded, night, rec);
  rec.checked('deferred 900 s (not published yet), not failed');
});

faultCase('P08', async (rec) => {
  const seeded = await world.seed(
    standardSeed({
      positions: [
        { id: 'pos-core-zzzz', portfolioId: CORE, ticker: 'ZZZZ', shares: '3', costBasis: '30' },
      ],
    }),
  );

  const night = await world.night();

  rec.did(describeNight(night));
  await checkNight(world, seeded, night, rec, { noDataTickers: ['ZZZZ'] });
  const core = (await scanAll(world, world.names.analyses)).find(
    (a) => a.portfolio === CORE && a.dataAsOf === seeded.session,
  );
  expect(core?.missingTickers).toEqual(['ZZZZ']);
  rec.checked('the analysis lists ZZZZ as missing');
});

faultCase('P10', async (rec) => {
  const seeded = await world.seed();
  world.polygon.setFault({ kind: 'malformed', times: 1 });

  const night = await world.night();

  rec.did(describeNight(night));
  expect(night.polygonRequests[0]).toMatchObject({ fault: 'malformed' });
  expect(night.tickerDrain).toMatchObject({ invocations: 1, failures: 0 });
  expect(night.metrics.RefreshFailures ?? 0).toBe(0);
  await checkNight(world, seeded, night, rec);
  rec.checked('retried within the invocation: no failed delivery, no RefreshFailures');
});
