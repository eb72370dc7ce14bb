/**
 * The score track record (issue 13) over a real night: analyses of session D (h = 5 sessions
 * before the night's session E) are stored as analyzePortfolio writes them, the night refreshes
 * E with the real handlers (SPY included), then the real evaluateAnalyses runs. Each evaluation
 * is checked against one computed independently from the closes in ticker-data
 * (harness/track-record.ts), and the aggregate item against the stored evaluations.
 */
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { horizonSession } from '../../lambdas/analysis/track-record/evaluation';
import {
  tradingDaysBack,
  tradingDaysBetween,
} from '../../lambdas/market-data/domain/market-calendar';
import { completeIndicators, rowFromBar } from '../../lambdas/market-data/domain/ticker-rows';
import { createTickerDataRepository } from '../../lambdas/market-data/adapters/ticker-data-repository';
import { sessionCloseIso } from '../../lambdas/platform/ny-time';
import { syntheticAgg, type SimulatedSplit } from '../../sim/polygon-simulator';
import { barOnBasis } from '../../sim/polygon-splits';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import {
  analysisRow,
  expectAggregate,
  expectedAggregate,
  expectedEvaluation,
  expectEvaluation,
  HORIZON,
  MODEL_PROMPT,
  plainDoc,
  storeAnalysis,
  storedClose,
  trackRecordItems,
  type Score,
} from './harness/track-record';
import { CORE, GROWTH, useWorld, type Seeded, type World } from './harness/world';

let world: World;
useWorld('track-record', (w) => (world = w));

const CORE_SCORES: Score[] = [
  { ticker: 'AAPL', score: 5 },
  { ticker: 'MSFT', score: -3 },
  { ticker: 'NVDA', score: 0 },
];
const GROWTH_SCORES: Score[] = [
  { ticker: 'META', score: 2 },
  { ticker: 'AMZN', score: -6 },
  { ticker: 'AAPL', score: 4 },
];

const closeOn = (session: string) => (t: string) => syntheticAgg(t, session).c;

interface Stored {
  readonly key: { portfolio: string; timestamp: string };
  readonly scores: Score[];
  readonly d: string;
}

/** Seeds the world, stores the analyses of D (and of `extra` earlier sessions), runs the night. */
async function nightAfterAnalyses(
  analyses: (d: string, session: string) => Promise<Stored[]>,
): Promise<{ seeded: Seeded; stored: Stored[]; session: string; d: string }> {
  const seeded = await world.seed();
  const session = seeded.session;
  const d = tradingDaysBack(session, HORIZON + 1)[0];
  expect(horizonSession(d, HORIZON)).toBe(session);
  const stored = await analyses(d, session);
  return { seeded, stored, session, d };
}

const store = async (portfolio: string, d: string, scores: Score[]): Promise<Stored> => ({
  key: await storeAnalysis(world, portfolio, d, scores, closeOn(d)),
  scores,
  d,
});

const evaluate = () =>
  world.handlers.evaluateAnalyses({}, world.context('evaluateAnalyses')) as Promise<
    Record<string, any>
  >;

/** Checks every stored analysis' evaluation and the night's aggregate item. */
async function checkTrackRecord(stored: readonly Stored[], session: string) {
  const evaluations: Record<string, any>[] = [];
  for (const s of stored) {
    const evaluatedAt = horizonSession(s.d, HORIZON);
    const row = await analysisRow(world, s.key);
    expectEvaluation(
      row.evaluation,
      await expectedEvaluation(world, s.scores, s.d, evaluatedAt),
      evaluatedAt,
    );
    evaluations.push(row.evaluation);
  }
  const items = await trackRecordItems(world);
  expect(items).toHaveLength(1);
  expect(items[0]).toMatchObject({ modelPrompt: MODEL_PROMPT, asOf: session });
  expectAggregate(items[0], expectedAggregate(evaluations));
  return { evaluations, item: items[0] };
}

faultCase(
  'T01',
  async (rec) => {
    const { seeded, stored, session } = await nightAfterAnalyses(async (d) => {
      const earlier = tradingDaysBack(d, 3).slice(0, 2);
      return Promise.all(
        [d, ...earlier].flatMap((day) => [
          store(CORE, day, CORE_SCORES),
          store(GROWTH, day, GROWTH_SCORES),
        ]),
      );
    });
    const night = await world.night();
    // The 2nd evaluation write is applied and never answered: the invocation dies there.
    world.proxy.addRule({
      operation: 'UpdateItem',
      table: world.names.analyses,
      after: 1,
      times: 1,
      fault: { kind: 'hold' },
    });
    const killable = await world.invokeKillable('evaluateAnalyses', {}, 600_000);
    await world.proxy.nextHold();
    await killable.kill();
    await expect(killable.done).rejects.toThrow(/killed/);
    const afterKill = await Promise.all(stored.map((s) => analysisRow(world, s.key)));
    const writtenBeforeKill = afterKill.filter((r) => r.evaluation !== undefined).length;
    expect(writtenBeforeKill).toBeGreaterThanOrEqual(2);
    expect(await trackRecordItems(world)).toEqual([]);

    const rerun = await evaluate();
    expect(rerun).toMatchObject({ complete: true, evaluated: stored.length - writtenBeforeKill });
    expect(rerun.alreadyEvaluated).toBe(writtenBeforeKill);
    await checkTrackRecord(stored, session);
    // The night's own analyses (of session E) are not due.
    expect(rerun.notDue).toBe(2);
    rec.did(
      `killed with ${writtenBeforeKill} of ${stored.length} evaluations applied and no aggregate; the rerun evaluated ${rerun.evaluated as number}, wrote the aggregate; ${describeNight(night)}`,
    );
    await checkNight(world, seeded, night, rec);
    rec.checked(
      'each due analysis has one evaluation equal to the independent computation',
      'the aggregate equals the stored evaluations pooled',
      'the night’s own analyses are not evaluated',
    );
  },
  180_000,
);

faultCase('T02', async (rec) => {
  const { seeded, stored, session } = await nightAfterAnalyses(async (d) => [
    await store(CORE, d, CORE_SCORES),
    await store(GROWTH, d, GROWTH_SCORES),
  ]);
  const night = await world.night();
  const first = await evaluate();
  const { evaluations, item } = await checkTrackRecord(stored, session);
  const second = await evaluate();
  const again = await checkTrackRecord(stored, session);

  rec.did(
    `first run evaluated ${first.evaluated as number}; second run evaluated ${second.evaluated as number}, ${second.alreadyEvaluated as number} already evaluated; ${describeNight(night)}`,
  );
  expect(first).toMatchObject({ evaluated: 2, legacy: 2 });
  expect(second).toMatchObject({ evaluated: 0, alreadyEvaluated: 2 });
  expect(again.evaluations).toEqual(evaluations);
  expect(again.item).toEqual(item);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'evaluations unchanged by the rerun; one aggregate item, unchanged',
    'the seeded rows without prices are skipped as legacy',
  );
});

/** Replaces the stored history of `ticker` by rows through `through`, as fetched that evening. */
async function historyFetchedOn(ticker: string, through: string, splits: SimulatedSplit[]) {
  const rows = completeIndicators(
    tradingDaysBack(through, 80).map((s) => {
      const a = barOnBasis(splits, ticker, s, syntheticAgg(ticker, s), through);
      return rowFromBar(
        ticker,
        { ticker, session: s, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v },
        'polygon-range',
        `${through}T22:00:00.000Z`,
      );
    }),
  );
  const repo = createTickerDataRepository({
    client: DynamoDBDocumentClient.from(world.dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: world.names.tickerData,
  });
  await repo.putRows(rows);
}

faultCase('T03', async (rec) => {
  let split: SimulatedSplit = { ticker: 'AAPL', executionDate: '', splitFrom: 1, splitTo: 2 };
  const { seeded, stored, session, d } = await nightAfterAnalyses(async (day, session) => {
    // AAPL splits 2-for-1 two sessions after D. The service last fetched AAPL on D's evening;
    // the rows after D (seeded "yesterday" on the old basis) are nights it then missed.
    split = { ...split, executionDate: tradingDaysBetween(day, session)[1] };
    world.polygon.setSplits([split]);
    await historyFetchedOn('AAPL', day, [split]);
    for (const s of tradingDaysBetween(day, session))
      await plainDoc(world).send(
        new DeleteCommand({
          TableName: world.names.tickerData,
          Key: { ticker: 'AAPL', timestamp: sessionCloseIso(s) },
        }),
      );
    return [await store(CORE, day, CORE_SCORES), await store(GROWTH, day, GROWTH_SCORES)];
  });
  // The close of D as fetched on D's evening, before the split (the old basis).
  const rawStart = barOnBasis([split], 'AAPL', d, syntheticAgg('AAPL', d), d).c;
  const night = await world.night();
  const run = await evaluate();
  const { evaluations } = await checkTrackRecord(stored, session);
  const start = await storedClose(world, 'AAPL', d);
  const aapl = evaluations[0].tickers.find((t: Score) => t.ticker === 'AAPL');

  rec.did(
    `split ${split.splitTo}-for-${split.splitFrom} two sessions after D: AAPL's close of D re-based to ${(start! / rawStart).toFixed(2)} × the close fetched before the split; its return ${Math.abs(aapl.return as number) < 0.25 ? 'within ±25 %' : 'a split artefact'}; evaluated ${run.evaluated as number}; ${describeNight(night)}`,
  );
  expect(start).toBeCloseTo(rawStart / 2, 6);
  expect(Math.abs(aapl.return as number)).toBeLessThan(0.25);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'the close of D is on today’s basis (÷ 2) and the return is no split artefact',
    'evaluations equal the independent computation from the re-based closes',
  );
});

faultCase('T04', async (rec) => {
  const { seeded, stored, session } = await nightAfterAnalyses(async (day) => {
    // ZZZZ: a close on D, unknown to Polygon since (held by no position, never refreshed).
    await plainDoc(world).send(
      new PutCommand({
        TableName: world.names.tickerData,
        Item: { ticker: 'ZZZZ', timestamp: sessionCloseIso(day), asOf: day, price: 12.34 },
      }),
    );
    const withGone = [...CORE_SCORES, { ticker: 'ZZZZ', score: 7 }];
    return [
      {
        key: await storeAnalysis(world, CORE, day, withGone, (t) =>
          t === 'ZZZZ' ? 12.34 : closeOn(day)(t),
        ),
        scores: withGone,
        d: day,
      },
      await store(GROWTH, day, GROWTH_SCORES),
    ];
  });
  const night = await world.night();
  const run = await evaluate();
  const { evaluations } = await checkTrackRecord(stored, session);

  rec.did(
    `ZZZZ has a close on D and none on D+h; CORE evaluated with n = ${evaluations[0].n as number} of 4 scores; evaluated ${run.evaluated as number}; ${describeNight(night)}`,
  );
  expect(evaluations[0].n).toBe(3);
  expect(evaluations[0].tickers.map((t: Score) => t.ticker)).not.toContain('ZZZZ');
  await checkNight(world, seeded, night, rec);
  rec.checked('the ticker without a close on D+h is left out; the others are evaluated');
});

faultCase('T05', async (rec) => {
  const { seeded, stored, session } = await nightAfterAnalyses(async (d) => [
    await store(CORE, d, [{ ticker: 'NVDA', score: 6 }]),
    await store(GROWTH, d, [{ ticker: 'META', score: -2 }]),
  ]);
  const night = await world.night();
  const run = await evaluate();
  const { evaluations, item } = await checkTrackRecord(stored, session);

  rec.did(
    `two one-holding analyses evaluated (n = ${evaluations.map((e) => e.n as number).join(', ')}); aggregate of ${item.scores as number} scores, no mean IC; evaluated ${run.evaluated as number}; ${describeNight(night)}`,
  );
  for (const e of evaluations) {
    expect(e.n).toBe(1);
    expect(e.ic).toBeUndefined();
  }
  expect(item).toMatchObject({ analyses: 2, scores: 2, icAnalyses: 0 });
  expect(item.meanIc).toBeUndefined();
  await checkNight(world, seeded, night, rec);
  rec.checked('n = 1 and no IC per analysis; the aggregate has no mean IC');
});
