/**
 * xAI misbehaving during a whole night (see harness/world.ts for the setup: the client timeout is
 * 3 s, its backoff 100-500 ms, 3 attempts per invocation; a failed message is redelivered at once
 * and dead-lettered after 5 receives). Each case seeds the standard world, sets one simulator
 * mode, runs the night and checks every invariant (harness/invariants.ts).
 */
import type { LogRecord } from '../../scripts/lib/output-capture';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import {
  CORE,
  GROWTH,
  scanAll,
  useWorld,
  type Night,
  type Seeded,
  xaiPortfolioName,
  type World,
} from './harness/world';

let world: World;
useWorld('xai', (w) => (world = w));

/** The standard seed's analysed portfolios, by the name the prompt carries. */
const BY_NAME = new Map([
  ['Core', CORE],
  ['Growth', GROWTH],
]);
/** What the xAI client logs before each retry within one invocation. */
const RETRY_MESSAGE = 'xAI request failed, retrying';

/** The portfolio an xAI request is about (the prompt's `Portfolio: "<name>"` line). */
const portfolioOf = (body: Record<string, unknown>): string | undefined =>
  BY_NAME.get(xaiPortfolioName(body) ?? '');

/** xAI requests per portfolio. */
function requestsByPortfolio(night: Night): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const body of night.xaiRequests) {
    const id = portfolioOf(body);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** xAI requests per portfolio, ascending (which portfolio is served first is not fixed). */
const requestCounts = (night: Night) =>
  [...requestsByPortfolio(night).values()].sort((a, b) => a - b);

/** Retries the client made within an invocation, optionally only after a given status. */
const retries = (night: Night, status?: number) =>
  night.records.filter(
    (r) => r.message === RETRY_MESSAGE && (status === undefined || r.status === status),
  );

/** ERROR lines reporting a failed analysis (`reportFailure`), with their failure kind. */
const failureLines = (night: Night): LogRecord[] =>
  night.records.filter((r) => r.level === 'ERROR' && typeof r.kind === 'string');

/** The analyses stored for the night's session. */
async function tonightsAnalyses(seeded: Seeded): Promise<Record<string, any>[]> {
  return (await scanAll(world, world.names.analyses)).filter((a) => a.dataAsOf === seeded.session);
}

const num = (v: unknown) => Number(String(v));

/** Attempts recorded on tonight's rows, ascending. */
const attemptsOf = (rows: Record<string, any>[]) =>
  rows.map((r) => num(r.xaiAttempts)).sort((a, b) => a - b);

/**
 * The common part of a permanent failure: `requests` xAI requests per portfolio (a paid defect
 * is sent twice, then failed without a call), 5 deliveries each, all failed, the DLQ.
 */
async function expectPermanentFailure(
  night: Night,
  seeded: Seeded,
  kind: string,
  requests: number[] = [2, 2],
): Promise<LogRecord[]> {
  expect(requestCounts(night)).toEqual(requests);
  expect(retries(night)).toHaveLength(0);
  expect(night.metrics.AnalysisFailures).toBe(10);
  expect(night.metrics.AnalysesStored ?? 0).toBe(0);
  const lines = failureLines(night);
  expect(lines).toHaveLength(10);
  expect(new Set(lines.map((r) => r.kind))).toEqual(new Set([kind]));
  expect(new Set(lines.map((r) => r.portfolioId))).toEqual(new Set([CORE, GROWTH]));
  expect(await tonightsAnalyses(seeded)).toEqual([]);
  return lines;
}

faultCase('X01', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('rate-limited', { times: 2, retryAfterSeconds: 1 });

  const night = await world.night();

  rec.did(describeNight(night));
  const counts = requestCounts(night);
  rec.did(
    `${retries(night, 429).length}× 429 each waited out and retried in the same invocation; ` +
      `xAI requests per portfolio: ${counts.join(' and ')}`,
  );
  expect(retries(night, 429)).toHaveLength(2);
  expect(retries(night)).toHaveLength(2);
  // Retry-After (1 s) is a floor under the jittered backoff (at most 500 ms here).
  for (const r of retries(night)) expect(Number(r.delayMs)).toBeGreaterThanOrEqual(1_000);
  expect(counts).toEqual([1, 3]);
  expect(night.metrics.AnalysisFailures ?? 0).toBe(0);
  expect(night.analysisDrain?.failures).toBe(0);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  expect(attemptsOf(rows)).toEqual([1, 3]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'exactly 2 answers were 429, each retried by the client (no SQS redelivery)',
    'each retry waited at least the 1 s Retry-After',
    'one new analysis per portfolio, stored with 1 and 3 attempts',
  );
});

faultCase('X02', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('credits-exhausted');

  const night = await world.night();

  rec.did(describeNight(night));
  const counts = requestCounts(night);
  rec.did(
    `xAI requests: ${counts.reduce((a, b) => a + b, 0)} in all (the run halts after the first ` +
      `credits error; later deliveries fail without a call); ${night.metrics.XaiCreditsExhausted ?? 0} XaiCreditsExhausted`,
  );
  expect(counts).toEqual([1]);
  expect(night.metrics.XaiCreditsExhausted).toBe(1);
  await expectPermanentFailure(night, seeded, 'xai-credits-exhausted', [1]);
  await checkNight(world, seeded, night, rec, { failedPortfolios: [CORE, GROWTH] });
  rec.checked(
    'XaiCreditsExhausted counted once (its alarm fires once), AnalysisFailures for every delivery',
    'one xAI request in the whole night instead of one per delivery; 5 deliveries per portfolio, then the DLQ',
    'no analysis row for the session',
  );
});

faultCase('X03', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('server-error', { times: 3 });

  const night = await world.night();

  rec.did(describeNight(night));
  const counts = requestCounts(night);
  rec.did(
    `3× 500 used up one invocation's 3 attempts; the message was redelivered and the next ` +
      `request succeeded; xAI requests per portfolio: ${counts.join(' and ')}`,
  );
  expect(retries(night, 500)).toHaveLength(2);
  expect(counts).toEqual([1, 4]);
  expect(night.metrics.AnalysisFailures).toBe(1);
  expect(failureLines(night).map((r) => r.kind)).toEqual(['xai-unavailable']);
  expect(night.analysisDrain?.failures).toBe(1);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  expect(attemptsOf(rows)).toEqual([1, 1]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'one invocation failed after 3 attempts (xai-unavailable) and was redelivered by SQS',
    'one new analysis per portfolio',
  );
});

faultCase('X04', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('overloaded', { times: 2 });

  const night = await world.night();

  rec.did(describeNight(night));
  const counts = requestCounts(night);
  rec.did(
    `${retries(night, 529).length}× 529 retried with backoff in the same invocation; ` +
      `xAI requests per portfolio: ${counts.join(' and ')}`,
  );
  expect(retries(night, 529)).toHaveLength(2);
  expect(retries(night)).toHaveLength(2);
  expect(counts).toEqual([1, 3]);
  expect(night.metrics.AnalysisFailures ?? 0).toBe(0);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  expect(attemptsOf(rows)).toEqual([1, 3]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'exactly 2 answers were 529, each retried by the client',
    'one new analysis per portfolio',
  );
});

faultCase('X05', async (rec) => {
  const seeded = await world.seed();
  // The client timeout is 3 s here (60 s deployed); the first answer takes 5 s.
  world.xai.setMode('slow', { times: 1, delayMs: 5_000 });

  const night = await world.night();

  rec.did(describeNight(night));
  const counts = requestCounts(night);
  const timeouts = night.records.filter(
    (r) => r.message === RETRY_MESSAGE && r.error === 'XaiTimeoutError',
  );
  rec.did(
    `${timeouts.length} request cut at the timeout and retried in the same invocation; ` +
      `xAI requests per portfolio: ${counts.join(' and ')}`,
  );
  expect(timeouts).toHaveLength(1);
  expect(retries(night)).toHaveLength(1);
  expect(counts).toEqual([1, 2]);
  expect(night.metrics.AnalysisFailures ?? 0).toBe(0);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  expect(attemptsOf(rows)).toEqual([1, 2]);
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'the slow request was abandoned at the timeout and retried',
    'one new analysis per portfolio',
  );
});

faultCase('X06', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('truncated', { times: 1 });

  const night = await world.night();

  rec.did(describeNight(night));
  const byPortfolio = requestsByPortfolio(night);
  const counts = requestCounts(night);
  rec.did(
    `the truncated answer failed its invocation (not retried by the client); the redelivery ` +
      `stored the analysis; xAI requests per portfolio: ${counts.join(' and ')}`,
  );
  expect(counts).toEqual([1, 2]);
  expect(retries(night)).toHaveLength(0);
  expect(night.metrics.AnalysisFailures).toBe(1);
  expect(failureLines(night).map((r) => r.kind)).toEqual(['xai-truncated']);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  expect(attemptsOf(rows)).toEqual([1, 1]);
  // The wasted answer's tokens are counted on top of the stored rows' (same prompt, same size).
  const wasted = [...byPortfolio].find(([, n]) => n === 2)?.[0];
  const wastedRow = rows.find((r) => r.portfolio === wasted);
  expect(wastedRow).toBeDefined();
  const sum = (k: string) => rows.reduce((s, r) => s + num(r[k]), 0);
  expect(night.metrics.XaiPromptTokens).toBe(sum('promptTokens') + num(wastedRow!.promptTokens));
  expect(night.metrics.XaiReasoningTokens).toBe(
    sum('reasoningTokens') + num(wastedRow!.reasoningTokens),
  );
  expect(night.metrics.XaiCompletionTokens).toBeGreaterThan(sum('completionTokens'));
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'the truncated answer was rejected (xai-truncated) and the redelivery stored one analysis',
    "the wasted answer's prompt, reasoning and completion tokens were counted",
  );
});

faultCase('X07', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('refusal');

  const night = await world.night();

  rec.did(describeNight(night));
  rec.did(
    `xAI requests per portfolio: ${requestCounts(night).join(' and ')} (each a refusal: the ` +
      'first delivery and one retry are sent, the other 3 deliveries fail without a call)',
  );
  await expectPermanentFailure(night, seeded, 'xai-refusal');
  // Refused answers are billed: their tokens are counted though nothing is stored.
  expect(night.metrics.XaiPromptTokens ?? 0).toBeGreaterThan(0);
  await checkNight(world, seeded, night, rec, { failedPortfolios: [CORE, GROWTH] });
  rec.checked(
    'every failure reported as xai-refusal, AnalysisFailures counted',
    'a refusal is paid for twice per portfolio, not 5 times',
    'no analysis row for the session',
    "the refused answers' tokens were counted",
  );
});

faultCase('X08', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('fenced');

  const night = await world.night();

  rec.did(describeNight(night));
  rec.did(`xAI requests per portfolio: ${requestCounts(night).join(' and ')}`);
  expect(requestCounts(night)).toEqual([1, 1]);
  expect(night.metrics.AnalysisFailures ?? 0).toBe(0);
  const rows = await tonightsAnalyses(seeded);
  expect(rows.map((r) => r.portfolio).sort()).toEqual([CORE, GROWTH].sort());
  const held = new Map([
    [CORE, ['AAPL', 'MSFT', 'NVDA']],
    [GROWTH, ['AAPL', 'AMZN', 'META']],
  ]);
  for (const row of rows) {
    expect(String(row.analysis)).toContain('```json');
    const parsed = JSON.parse(String(row.parsed_data)) as { ticker: string; score: unknown }[];
    expect(parsed.map((e) => e.ticker).sort()).toEqual(held.get(String(row.portfolio)));
    for (const e of parsed) {
      expect(typeof e.score).toBe('number');
      expect(e.score as number).toBeGreaterThanOrEqual(-10);
      expect(e.score as number).toBeLessThanOrEqual(10);
    }
    expect((row.warnings as string[] | undefined)?.join(' ')).toMatch(/not bare JSON/);
  }
  await checkNight(world, seeded, night, rec);
  rec.checked(
    'each stored row keeps the fenced raw answer and has a score for every holding',
    'the row carries a warning that the answer was not bare JSON',
  );
});

faultCase('X09', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('out-of-range');

  const night = await world.night();

  rec.did(describeNight(night));
  rec.did(
    `xAI requests per portfolio: ${requestCounts(night).join(' and ')} (each answer rejected by ` +
      'validation: sent on the first delivery and one retry, not on the other 3)',
  );
  const lines = await expectPermanentFailure(night, seeded, 'invalid-answer');
  for (const r of lines) expect(String(r.error)).toMatch(/score 15 is outside/);
  await checkNight(world, seeded, night, rec, { failedPortfolios: [CORE, GROWTH] });
  rec.checked(
    'every answer rejected as invalid (score 15 outside -10…10), AnalysisFailures counted',
    'no analysis row for the session',
  );
});

faultCase('X10', async (rec) => {
  const seeded = await world.seed();
  world.xai.setMode('missing-holding');

  const night = await world.night();

  rec.did(describeNight(night));
  rec.did(
    `xAI requests per portfolio: ${requestCounts(night).join(' and ')} (each answer rejected for ` +
      'a missing holding: sent on the first delivery and one retry, not on the other 3)',
  );
  const lines = await expectPermanentFailure(night, seeded, 'invalid-answer');
  for (const r of lines) expect(String(r.error)).toMatch(/missing scores for/);
  await checkNight(world, seeded, night, rec, { failedPortfolios: [CORE, GROWTH] });
  rec.checked(
    'every answer rejected as invalid (missing scores), AnalysisFailures counted',
    'no partial analysis row for the session',
  );
});

faultCase('X11', async (rec) => {
  const seeded = await world.seed();
  // The same invalid answer on every request: xAI is paid twice per portfolio, then no more.
  world.xai.setMode('out-of-range');

  const night = await world.night();

  rec.did(describeNight(night));
  const lines = failureLines(night);
  const notSent = lines.filter((r) => /not sent to xAI again/.test(String(r.error)));
  rec.did(
    `xAI requests per portfolio: ${requestCounts(night).join(' and ')}; ${notSent.length} of ` +
      `${lines.length} failed deliveries were failed without a call, naming the last defect`,
  );
  await expectPermanentFailure(night, seeded, 'invalid-answer', [2, 2]);
  expect(notSent).toHaveLength(6);
  for (const r of notSent)
    expect(String(r.error)).toMatch(/last 2 paid answers.*score 15 is outside/);
  await checkNight(world, seeded, night, rec, { failedPortfolios: [CORE, GROWTH] });
  rec.checked(
    'each portfolio sent to xAI twice (the first delivery and one retry), never 5 times',
    'the 3 later deliveries failed at once with ERROR naming the portfolio and the defect, then the DLQ',
  );
});

faultCase('X12', async (rec) => {
  const seeded = await world.seed();
  // The first analysis of the night succeeds, then the credits run out.
  world.xai.setMode('credits-exhausted');
  world.xai.setMode('ok', { times: 1 });

  const night = await world.night();

  rec.did(describeNight(night));
  const rows = await tonightsAnalyses(seeded);
  const stored = rows.map((r) => String(r.portfolio));
  const failed = [CORE, GROWTH].filter((p) => !stored.includes(p));
  rec.did(
    `the first portfolio was analysed; the second hit exhausted credits once, then its other 4 ` +
      `deliveries failed without a call; xAI requests per portfolio: ${requestCounts(night).join(' and ')}`,
  );
  expect(stored).toHaveLength(1);
  expect(failed).toHaveLength(1);
  expect(requestCounts(night)).toEqual([1, 1]);
  expect(night.metrics.XaiCreditsExhausted).toBe(1);
  expect(night.metrics.AnalysisFailures).toBe(5);
  const lines = failureLines(night);
  expect(new Set(lines.map((r) => r.kind))).toEqual(new Set(['xai-credits-exhausted']));
  expect(new Set(lines.map((r) => r.portfolioId))).toEqual(new Set(failed));
  expect(lines.filter((r) => /is halted until/.test(String(r.error)))).toHaveLength(4);
  await checkNight(world, seeded, night, rec, { failedPortfolios: failed });
  rec.checked(
    'the analysis stored before the credits ran out stays',
    'after the credits error the run sent nothing more to xAI (XaiCreditsExhausted counted once)',
    'the failed portfolio reached the DLQ with the same reason on every delivery',
  );
});
