/**
 * The night after a market holiday, on a clock set to Friday 2026-11-27 04:30 UTC (Thanksgiving
 * evening in New York; the exchange was closed on Thursday 2026-11-26). Only `Date` is faked and
 * it keeps running; timers stay real. A file of its own: the budget slots written under this
 * clock lie days ahead of the real one, so no other case may share the world.
 */
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import { startWorld, type World } from './harness/world';
import { fakeDateOnly } from './harness/fake-date';

let world: World;

beforeAll(async () => {
  world = await startWorld('calendar');
}, 60_000);
afterAll(async () => {
  jest.useRealTimers();
  await world?.close();
});

faultCase('P09', async (rec) => {
  fakeDateOnly('2026-11-27T04:30:00Z');
  const seeded = await world.seed();
  expect(seeded).toMatchObject({ session: '2026-11-25', previousSession: '2026-11-24' });

  const night = await world.night();

  rec.did(`session ${night.session}; ${describeNight(night)}`);
  expect(night.session).toBe('2026-11-25');
  expect(night.polygonRequests.map((r) => r.path)).toEqual([
    '/v2/aggs/grouped/locale/us/market/stocks/2026-11-25?adjusted=true',
    expect.stringMatching(
      /^\/stocks\/v1\/splits\?execution_date\.gte=2026-11-2\d&execution_date\.lte=2026-11-2\d&/,
    ),
  ]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'the only requests are the grouped day of 2026-11-25 and the splits lookup; none for the holiday',
  );
});
