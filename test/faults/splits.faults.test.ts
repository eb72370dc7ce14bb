/**
 * Stock splits over a whole night (issue 12): the Polygon simulator serves the splits and puts
 * its aggregates on the basis of its "today" as Polygon does (sim/polygon-splits.ts). Each case
 * sets the splits relative to the session the night refreshes (computed from the clock, so
 * nothing depends on the real date), rewrites the seeded history of the tickers concerned on the
 * basis Polygon served when it was fetched, runs the night and checks that the newest rows are
 * on the split-adjusted basis. A file of its own: the simulator's splits are world-wide.
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTickerDataRepository } from '../../lambdas/market-data/adapters/ticker-data-repository';
import { rsiWilder, sma } from '../../lambdas/market-data/domain/indicators';
import {
  nextTradingDay,
  previousTradingDay,
  tradingDaysBack,
  tradingDaysBetween,
} from '../../lambdas/market-data/domain/market-calendar';
import { completeIndicators, rowFromBar } from '../../lambdas/market-data/domain/ticker-rows';
import { sessionCloseIso } from '../../lambdas/platform/ny-time';
import { syntheticAgg, type SimulatedSplit } from '../../sim/polygon-simulator';
import { barOnBasis } from '../../sim/polygon-splits';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase, type CaseRecorder } from './harness/recorder';
import { rowsOf, useWorld, type Night, type World } from './harness/world';

let world: World;
useWorld('splits', (w) => (world = w));

const num = (v: unknown): number => Number(String(v));
const adjusted = (splits: readonly SimulatedSplit[], ticker: string, s: string, today: string) =>
  barOnBasis(splits, ticker, s, syntheticAgg(ticker, s), today);

/**
 * Replaces the stored history of `tickers` by 80 sessions through `through`, on the basis
 * Polygon served on that day (fetched that evening); rows after `through` are removed (nights
 * the service did not run).
 */
async function historyAsFetchedOn(
  tickers: readonly string[],
  through: string,
  splits: readonly SimulatedSplit[],
  removeThrough?: string,
): Promise<void> {
  const fetchedAt = `${through}T22:00:00.000Z`;
  const rows = tickers.flatMap((ticker) =>
    completeIndicators(
      tradingDaysBack(through, 80).map((s) => {
        const a = adjusted(splits, ticker, s, through);
        return rowFromBar(
          ticker,
          { ticker, session: s, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v },
          'polygon-range',
          fetchedAt,
        );
      }),
    ),
  );
  const plain = DynamoDBDocumentClient.from(world.dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await createTickerDataRepository({ client: plain, tableName: world.names.tickerData }).putRows(
    rows,
  );
  const gone = removeThrough ? tradingDaysBetween(through, removeThrough) : [];
  for (const ticker of tickers)
    for (const s of gone)
      await world.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [world.names.tickerData]: [
              { DeleteRequest: { Key: { ticker, timestamp: sessionCloseIso(s) } } },
            ],
          },
        }),
      );
}

/**
 * The stored history of `ticker` against Polygon's adjusted bars as of `today`: every row on
 * that basis, the newest close exact, MA50 within 1e-6 relative and RSI within 0.25 of the
 * indicators of the adjusted closes. Returns the rows, oldest first.
 */
async function expectAdjusted(
  ticker: string,
  today: string,
  splits: readonly SimulatedSplit[],
): Promise<Record<string, any>[]> {
  const rows = (await rowsOf(world, ticker)).sort((a, b) => (a.asOf < b.asOf ? -1 : 1));
  const want = rows.map((r) => adjusted(splits, ticker, String(r.asOf), today).c);
  expect(rows.map((r) => r.asOf)).toEqual(tradingDaysBack(today, rows.length));
  rows.forEach((r, i) => expect(num(r.price) / want[i]).toBeCloseTo(1, 9));
  const newest = rows[rows.length - 1];
  expect(newest.asOf).toBe(today);
  expect(num(newest.price)).toBe(want[want.length - 1]);
  expect(Math.abs(num(newest.ma50) / sma(want)! - 1)).toBeLessThan(1e-6);
  expect(Math.abs(num(newest.rsi) - rsiWilder(want)!)).toBeLessThan(0.25);
  return rows;
}

const splitMarks = (rows: Record<string, any>[]) =>
  rows
    .filter((r) => r.split !== undefined)
    .map((r) => ({ asOf: r.asOf, from: num(r.split.from), to: num(r.split.to) }));

const splitLines = (night: Night) =>
  night.records.filter((r) => r.message === 'Split applied: history re-based');

/** A steady night's requests: the session's grouped day, then one splits lookup. */
function expectGroupedAndLookup(night: Night): void {
  expect(night.polygonRequests.map((r) => r.path)).toEqual([
    `/v2/aggs/grouped/locale/us/market/stocks/${night.session}?adjusted=true`,
    expect.stringMatching(/^\/stocks\/v1\/splits\?/),
  ]);
}

/** A split executed on the session the night refreshes: the stored history is re-based. */
async function splitOnTheSession(
  rec: CaseRecorder,
  ticker: string,
  splitFrom: number,
  splitTo: number,
): Promise<void> {
  world.polygon.setSplits([]);
  const seeded = await world.seed();
  const splits = [{ ticker, executionDate: seeded.session, splitFrom, splitTo }];
  await historyAsFetchedOn([ticker], seeded.previousSession, splits);
  world.polygon.setSplits(splits);
  const before = await rowsOf(world, ticker);

  const night = await world.night();

  rec.did(`${ticker} ${splitTo}-for-${splitFrom} on the session; ${describeNight(night)}`);
  expectGroupedAndLookup(night);
  const rows = await expectAdjusted(ticker, seeded.session, splits);
  expect(num(before[0].price) / num(rows[0].price)).toBeCloseTo(splitTo / splitFrom, 9);
  expect(splitMarks(rows)).toEqual([{ asOf: seeded.session, from: splitFrom, to: splitTo }]);
  expect(night.metrics.SplitsApplied).toBe(1);
  expect(splitLines(night)).toHaveLength(1);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'two Polygon requests: the grouped day and one splits lookup',
    `every stored ${ticker} row on the adjusted basis (older ones re-based by the ratio); the newest close exact, MA50 within 1e-6 relative, RSI within 0.25`,
    `the split session's row marked with the split; SplitsApplied counted once; one log line`,
  );
}

faultCase('P11', (rec) => splitOnTheSession(rec, 'NVDA', 1, 10));

faultCase('P12', (rec) => splitOnTheSession(rec, 'AAPL', 4, 1));

faultCase('P13', async (rec) => {
  world.polygon.setSplits([]);
  const seeded = await world.seed();
  const s = seeded.session;
  const lastRun = tradingDaysBack(s, 5)[0];
  const executed = previousTradingDay(previousTradingDay(s));
  const splits = [{ ticker: 'MSFT', executionDate: executed, splitFrom: 1, splitTo: 3 }];
  const tickers = ['AAPL', 'MSFT', 'NVDA', 'META', 'AMZN', 'JPM'];
  await historyAsFetchedOn(tickers, lastRun, splits, seeded.previousSession);
  world.polygon.setSplits(splits);

  const night = await world.night();

  rec.did(`no run for 3 sessions, MSFT 3-for-1 on the second; ${describeNight(night)}`);
  const lookups = night.polygonRequests.filter((r) => r.path.startsWith('/stocks/v1/splits'));
  expect(lookups).toHaveLength(1);
  expect(night.polygonRequests.every((r) => r.status === 200)).toBe(true);
  const rows = await expectAdjusted('MSFT', s, splits);
  expect(splitMarks(rows)).toEqual([{ asOf: executed, from: 1, to: 3 }]);
  expect(night.metrics.SplitsApplied).toBe(1);
  // JPM is held only by the inactive portfolio: not refreshed, its history left as it was.
  for (const t of tickers.filter((x) => x !== 'MSFT' && x !== 'JPM'))
    expect(splitMarks(await expectAdjusted(t, s, splits))).toEqual([]);
  expect((await rowsOf(world, 'JPM')).map((r) => r.asOf).pop()).toBe(lastRun);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'one splits lookup covering the missed sessions; every Polygon request answered 200',
    'every stored MSFT row on the adjusted basis, the gap filled (also for the other held tickers); the newest close exact, MA50 within 1e-6 relative, RSI within 0.25',
    'the execution session marked with the split; SplitsApplied counted once; the other tickers unmarked',
  );
});

faultCase('P14', async (rec) => {
  world.polygon.setSplits([]);
  const seeded = await world.seed();
  let later = seeded.session;
  for (let i = 0; i < 10; i++) later = nextTradingDay(later);
  const splits = [{ ticker: 'META', executionDate: later, splitFrom: 1, splitTo: 3 }];
  await historyAsFetchedOn(['META'], seeded.previousSession, splits);
  world.polygon.setSplits(splits);
  const before = await rowsOf(world, 'META');

  const night = await world.night();

  rec.did(`META 3-for-1 announced for 10 sessions later; ${describeNight(night)}`);
  expectGroupedAndLookup(night);
  const rows = await expectAdjusted('META', seeded.session, splits);
  expect(rows.slice(0, -1).map((r) => num(r.price))).toEqual(
    before.map((r) => num(r.price)).slice(-(rows.length - 1)),
  );
  expect(splitMarks(rows)).toEqual([]);
  expect(night.metrics.SplitsApplied ?? 0).toBe(0);
  expect(splitLines(night)).toEqual([]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'two Polygon requests: the grouped day and one splits lookup',
    'stored META rows unchanged, the newest close exact, MA50 within 1e-6 relative, RSI within 0.25',
    'no split mark, SplitsApplied not counted, no split log line',
  );
});
