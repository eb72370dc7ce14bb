/**
 * End to end (issue 13): h + 2 = 7 consecutive nights with the real handlers against dynalite,
 * moto SQS and the simulators, each night followed by evaluateAnalyses, on a clock set to
 * Tuesday 2026-11-03 04:30 UTC and moved to each next night (only `Date` is faked and it keeps
 * running; timers stay real). The first night's analyses (session D) are evaluated after the
 * night of D+5, against an independent computation from the closes in ticker-data; the
 * aggregate item of the last night pools the first two nights' evaluations. A file of its own:
 * the clock lies days ahead of the real one (see calendar.faults.test.ts).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  expectAggregate,
  expectedAggregate,
  expectedEvaluation,
  expectEvaluation,
  HORIZON,
  MODEL_PROMPT,
  plainDoc,
  trackRecordItems,
  type Score,
} from './harness/track-record';
import { CORE, GROWTH, startWorld, type World } from './harness/world';
import { fakeDateOnly } from './harness/fake-date';

let world: World;

beforeAll(async () => {
  world = await startWorld('track-record-nights');
}, 60_000);
afterAll(async () => {
  jest.useRealTimers();
  await world?.close();
});

/** The nights: 04:30 UTC after each session (Monday 2026-11-02 … Tuesday 2026-11-10). */
const NIGHTS = [
  ['2026-11-02', '2026-11-03T04:30:00Z'],
  ['2026-11-03', '2026-11-04T04:30:00Z'],
  ['2026-11-04', '2026-11-05T04:30:00Z'],
  ['2026-11-05', '2026-11-06T04:30:00Z'],
  ['2026-11-06', '2026-11-07T04:30:00Z'],
  ['2026-11-09', '2026-11-10T04:30:00Z'],
  ['2026-11-10', '2026-11-11T04:30:00Z'],
] as const;

async function analysesOf(dataAsOf: string): Promise<Record<string, any>[]> {
  const out = await plainDoc(world).send(
    new ScanCommand({
      TableName: world.names.analyses,
      FilterExpression: 'dataAsOf = :d',
      ExpressionAttributeValues: { ':d': dataAsOf },
    }),
  );
  return (out.Items ?? []).sort((a, b) => String(a.portfolio).localeCompare(String(b.portfolio)));
}

const scoresOf = (row: Record<string, any>): Score[] =>
  (JSON.parse(String(row.parsed_data)) as Score[]).map(({ ticker, score }) => ({ ticker, score }));

it('evaluates the first night’s analyses after night h + 1 and aggregates them', async () => {
  fakeDateOnly(NIGHTS[0][1]);
  await world.seed();
  const runs: Record<string, any>[] = [];
  for (const [session, at] of NIGHTS) {
    jest.setSystemTime(Date.parse(at));
    const night = await world.night();
    expect(night.session).toBe(session);
    expect(night.analysisDrain).toMatchObject({ failures: 0, leftOver: 0 });
    runs.push(
      (await world.handlers.evaluateAnalyses({}, world.context('evaluateAnalyses'))) as Record<
        string,
        any
      >,
    );
    // Nothing is evaluated before the night of D+h.
    if (runs.length <= HORIZON) expect(await trackRecordItems(world)).toEqual([]);
  }
  expect(runs.map((r) => r.evaluated)).toEqual([0, 0, 0, 0, 0, 2, 2]);
  expect(runs.every((r) => r.complete === true)).toBe(true);

  const [d0, d1] = [NIGHTS[0][0], NIGHTS[1][0]];
  const evaluations: Record<string, any>[] = [];
  for (const [d, e] of [
    [d0, NIGHTS[5][0]],
    [d1, NIGHTS[6][0]],
  ]) {
    const rows = await analysesOf(d);
    expect(rows.map((r) => r.portfolio)).toEqual([CORE, GROWTH].sort());
    for (const row of rows) {
      expectEvaluation(row.evaluation, await expectedEvaluation(world, scoresOf(row), d, e), e);
      evaluations.push(row.evaluation);
    }
  }
  for (const [d] of NIGHTS.slice(2))
    for (const row of await analysesOf(d)) expect(row.evaluation).toBeUndefined();

  const items = await trackRecordItems(world);
  expect(items.map((i) => [i.modelPrompt, i.asOf])).toEqual([
    [MODEL_PROMPT, NIGHTS[5][0]],
    [MODEL_PROMPT, NIGHTS[6][0]],
  ]);
  expectAggregate(items[0], expectedAggregate(evaluations.slice(0, 2)));
  expectAggregate(items[1], expectedAggregate(evaluations));
}, 600_000);
