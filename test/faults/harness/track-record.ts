/**
 * Helpers of the score-track-record cases (T01-T05) and the multi-night end-to-end test: stored
 * analyses as analyzePortfolio writes them, and an evaluation and aggregate computed
 * independently of lambdas/analysis/track-record from the closes in `ticker-data` (ranks by
 * counting, not by sorting).
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import { rowsOf, XAI_MODEL, type World } from './world';

export const HORIZON = 5;
export const BENCHMARK = 'SPY';
export const MODEL_PROMPT = `${XAI_MODEL}#${PROMPT_VERSION}`;

export interface Score {
  readonly ticker: string;
  readonly score: number;
}

const num = (v: unknown): number => Number(String(v));

/** A DocumentClient on dynalite that reads numbers as JS numbers. */
export const plainDoc = (world: World) =>
  DynamoDBDocumentClient.from(world.dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });

/** Stores an analysis of session `dataAsOf` as analyzePortfolio does (scores with prices). */
export async function storeAnalysis(
  world: World,
  portfolio: string,
  dataAsOf: string,
  scores: readonly Score[],
  price: (ticker: string) => number,
): Promise<{ portfolio: string; timestamp: string }> {
  const timestamp = `${dataAsOf}T23:30:00.000Z`;
  await plainDoc(world).send(
    new PutCommand({
      TableName: world.names.analyses,
      Item: {
        portfolio,
        timestamp,
        portfolioName: 'stored by the case',
        model: XAI_MODEL,
        promptVersion: PROMPT_VERSION,
        dataAsOf,
        analysis: '{"scores":[]}',
        parsed_data: JSON.stringify(
          scores.map((s) => ({ ...s, reason: 'case', price: price(s.ticker), asOf: dataAsOf })),
        ),
      },
    }),
  );
  return { portfolio, timestamp };
}

/** The stored row of an analysis (numbers as JS numbers). */
export async function analysisRow(
  world: World,
  key: { portfolio: string; timestamp: string },
): Promise<Record<string, any>> {
  const out = await plainDoc(world).send(
    new GetCommand({ TableName: world.names.analyses, Key: key, ConsistentRead: true }),
  );
  if (!out.Item) throw new Error(`no analysis ${key.portfolio} ${key.timestamp}`);
  return out.Item;
}

/** Every item of analysis-track-record (numbers as JS numbers). */
export async function trackRecordItems(world: World): Promise<Record<string, any>[]> {
  const out = await plainDoc(world).send(new ScanCommand({ TableName: world.names.trackRecord }));
  return out.Items ?? [];
}

/** The close of `ticker` on `session` in ticker-data, if any. */
export async function storedClose(
  world: World,
  ticker: string,
  session: string,
): Promise<number | undefined> {
  const row = (await rowsOf(world, ticker)).find((r) => String(r.asOf).slice(0, 10) === session);
  return row === undefined ? undefined : num(row.price);
}

/** Average ranks by counting: rank = (number smaller) + (number equal + 1) / 2. */
function countingRanks(xs: readonly number[]): number[] {
  return xs.map((x) => xs.filter((y) => y < x).length + (xs.filter((y) => y === x).length + 1) / 2);
}

function correlation(a: readonly number[], b: readonly number[]): number | undefined {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  const cov = a.reduce((s, v, i) => s + (v - ma) * (b[i] - mb), 0);
  const va = a.reduce((s, v) => s + (v - ma) ** 2, 0);
  const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0);
  return va === 0 || vb === 0 ? undefined : cov / Math.sqrt(va * vb);
}

/** What the evaluation must be, from the table's closes on D and E = D+h. */
export async function expectedEvaluation(
  world: World,
  scores: readonly Score[],
  d: string,
  e: string,
) {
  const ret = async (t: string) => {
    const [start, end] = [await storedClose(world, t, d), await storedClose(world, t, e)];
    return start === undefined || end === undefined ? undefined : end / start - 1;
  };
  const b = await ret(BENCHMARK);
  if (b === undefined) throw new Error(`no benchmark closes on ${d} and ${e}`);
  const tickers: { ticker: string; score: number; return: number; excess: number }[] = [];
  for (const s of scores) {
    const r = await ret(s.ticker);
    if (r !== undefined) tickers.push({ ...s, return: r, excess: r - b });
  }
  const decided = tickers.filter((t) => t.score !== 0 && t.excess !== 0);
  const hits = decided.filter((t) => t.score > 0 === t.excess > 0).length;
  const ic =
    tickers.length < 3
      ? undefined
      : correlation(
          countingRanks(tickers.map((t) => t.score)),
          countingRanks(tickers.map((t) => t.excess)),
        );
  return {
    benchmarkReturn: b,
    n: tickers.length,
    decided: decided.length,
    hits,
    hitRate: decided.length > 0 ? hits / decided.length : undefined,
    ic,
    tickers,
  };
}

/** Asserts a stored evaluation against {@link expectedEvaluation}. */
export function expectEvaluation(
  stored: Record<string, any> | undefined,
  expected: Awaited<ReturnType<typeof expectedEvaluation>>,
  evaluatedAt: string,
): void {
  expect(stored).toBeDefined();
  const ev = stored!;
  expect(ev).toMatchObject({
    horizon: HORIZON,
    evaluatedAt,
    benchmark: BENCHMARK,
    n: expected.n,
    decided: expected.decided,
    hits: expected.hits,
  });
  expect(ev.benchmarkReturn).toBeCloseTo(expected.benchmarkReturn, 12);
  if (expected.hitRate === undefined) expect(ev.hitRate).toBeUndefined();
  else expect(ev.hitRate).toBeCloseTo(expected.hitRate, 12);
  if (expected.ic === undefined) expect(ev.ic).toBeUndefined();
  else expect(ev.ic).toBeCloseTo(expected.ic, 10);
  expect(ev.tickers.map((t: Score) => t.ticker)).toEqual(expected.tickers.map((t) => t.ticker));
  ev.tickers.forEach((t: Record<string, number>, i: number) => {
    expect(t.return).toBeCloseTo(expected.tickers[i].return, 12);
    expect(t.excess).toBeCloseTo(expected.tickers[i].excess, 12);
  });
}

/** What the aggregate item must hold, from the stored evaluations of the window. */
export function expectedAggregate(evaluations: readonly Record<string, any>[]) {
  const sum = (k: string) => evaluations.reduce((s, e) => s + (e[k] as number), 0);
  const ics = evaluations.flatMap((e) => (typeof e.ic === 'number' ? [e.ic] : []));
  const meanIc = ics.length ? ics.reduce((s, v) => s + v, 0) / ics.length : undefined;
  const sd =
    ics.length > 1 && meanIc !== undefined
      ? Math.sqrt(ics.reduce((s, v) => s + (v - meanIc) ** 2, 0) / (ics.length - 1))
      : undefined;
  const calls = evaluations.flatMap((e) => e.tickers as { score: number; excess: number }[]);
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const long = calls.filter((c) => c.score >= 4).map((c) => c.excess);
  const short = calls.filter((c) => c.score <= -4).map((c) => c.excess);
  return {
    analyses: evaluations.length,
    scores: sum('n'),
    decided: sum('decided'),
    hits: sum('hits'),
    hitRate: sum('decided') > 0 ? sum('hits') / sum('decided') : undefined,
    meanIc,
    icStdErr: sd === undefined ? undefined : sd / Math.sqrt(ics.length),
    longMinusShort: long.length && short.length ? mean(long) - mean(short) : undefined,
  };
}

/** Asserts an aggregate item against {@link expectedAggregate}. */
export function expectAggregate(
  item: Record<string, any> | undefined,
  expected: ReturnType<typeof expectedAggregate>,
): void {
  expect(item).toBeDefined();
  const it = item!;
  expect(it).toMatchObject({
    modelPrompt: MODEL_PROMPT,
    window: 60,
    analyses: expected.analyses,
    scores: expected.scores,
    decided: expected.decided,
    hits: expected.hits,
  });
  for (const k of ['hitRate', 'meanIc', 'icStdErr', 'longMinusShort'] as const) {
    const want = expected[k];
    if (want === undefined) expect(it[k]).toBeUndefined();
    else expect(it[k]).toBeCloseTo(want, 10);
  }
  if (expected.icStdErr !== undefined && expected.meanIc !== undefined) {
    expect(it.icLow).toBeCloseTo(expected.meanIc - 1.96 * expected.icStdErr, 10);
    expect(it.icHigh).toBeCloseTo(expected.meanIc + 1.96 * expected.icStdErr, 10);
  }
}
