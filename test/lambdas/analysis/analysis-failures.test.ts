import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as analyzePortfolio } from '../../../lambdas/handlers/analyze-portfolio';
import { analysisKey } from '../../../lambdas/analysis/flows';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import { defectKey, haltKey } from '../../../lambdas/analysis/paid-guard';
import type { BatchAnalysisResult } from '../../../lambdas/analysis/types';
import { logger } from '../../../lambdas/platform/observability';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startXaiSimulator, type XaiSimMode, type XaiSimulator } from '../../../sim/xai-simulator';
import { createSqsEvent, lambdaContext } from '../../helpers/events';
import {
  analysesOf,
  analysisEnv,
  localDocumentClient,
  portfolioItem,
  positionItem,
  putAll,
  putItem,
  setEnv,
  stateItem,
  tickerRow,
  XAI_TEST_KEY,
} from './analysis-fixtures';

/**
 * What a failing analysis leaves behind, through the real analyzePortfolio handler against
 * dynalite and the xAI simulator: never a row that hides the last good analysis, always a batch
 * item failure (or a clear error) and an ERROR log line naming the portfolio.
 */

const GOOD = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const NO_DATA = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const TWIN_A = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const TWIN_B = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const CLAIMED = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
const PAID = 'f0f0f0f0-f0f0-4f0f-8f0f-f0f0f0f0f0f0';
const HALT_A = 'f1f1f1f1-f1f1-4f1f-8f1f-f1f1f1f1f1f1';
const HALT_B = 'f2f2f2f2-f2f2-4f2f-8f2f-f2f2f2f2f2f2';
const MANUAL = 'f3f3f3f3-f3f3-4f3f-8f3f-f3f3f3f3f3f3';
const DATA_AS_OF = '2026-11-23';

let dynamo: LocalDynamo;
let xai: XaiSimulator;
let doc: DynamoDBDocumentClient;
let restoreEnv: () => void;
let lastGood: Record<string, unknown>;

const context = () =>
  lambdaContext(170_000, 'zsmseven-backend-processing-api-test-analyzePortfolio');
const rows = (portfolioId: string) => analysesOf(doc, dynamo.names.analyses, portfolioId);
const recordFor = (portfolioId: string) =>
  createSqsEvent([{ v: 1, portfolioId, runId: 'run-f' }], 'portfolio-analysis-queue-test');
const claimKey = (portfolioId: string) =>
  analysisKey({
    portfolioId,
    model: 'grok-4.3',
    promptVersion: PROMPT_VERSION,
    dataAsOf: DATA_AS_OF,
  });

beforeAll(async () => {
  [dynamo, xai] = await Promise.all([
    startLocalDynamo(),
    startXaiSimulator({ apiKey: XAI_TEST_KEY }),
  ]);
  restoreEnv = setEnv(analysisEnv(dynamo, xai.url));
  doc = localDocumentClient(dynamo);

  await putAll(doc, dynamo.names.portfolios, [
    portfolioItem(GOOD, 'Steady'),
    portfolioItem(NO_DATA, 'Fresh Listings'),
    portfolioItem(TWIN_A, 'Growth'),
    portfolioItem(TWIN_B, 'Growth'),
    portfolioItem(CLAIMED, 'Claimed'),
    portfolioItem(PAID, 'Paid'),
    portfolioItem(HALT_A, 'Halt A'),
    portfolioItem(HALT_B, 'Halt B'),
    portfolioItem(MANUAL, 'Manual'),
  ]);
  await putAll(doc, dynamo.names.positions, [
    positionItem('f-1', GOOD, 'NVDA', '4', '500'),
    positionItem('f-2', GOOD, 'AAPL', '6', '1200'),
    positionItem('f-3', NO_DATA, 'IPOA', '10', '100'),
    positionItem('f-4', NO_DATA, 'IPOB', '5', '75'),
    positionItem('f-5', TWIN_A, 'NVDA', '1', '100'),
    positionItem('f-6', TWIN_B, 'AAPL', '1', '100'),
    positionItem('f-7', CLAIMED, 'AAPL', '1', '100'),
    positionItem('f-8', PAID, 'NVDA', '1', '100'),
    positionItem('f-9', HALT_A, 'NVDA', '1', '100'),
    positionItem('f-10', HALT_B, 'AAPL', '1', '100'),
    positionItem('f-11', MANUAL, 'AAPL', '1', '100'),
  ]);
  await putAll(doc, dynamo.names.tickerData, [
    tickerRow('NVDA', DATA_AS_OF, 181.5, 71.3, 169.9),
    tickerRow('AAPL', DATA_AS_OF, 228.4, 52.9, 227.8),
  ]);
  lastGood = {
    portfolio: GOOD,
    timestamp: new Date(Date.now() - 86_400_000).toISOString(),
    portfolioName: 'Steady',
    model: 'grok-4.3',
    dataAsOf: '2026-11-20',
    prompt: 'yesterday',
    analysis: '{"scores":[]}',
    parsed_data: JSON.stringify([{ ticker: 'NVDA', score: 2, reason: 'yesterday' }]),
  };
  await putItem(doc, dynamo.names.analyses, lastGood);
}, 90_000);

afterAll(async () => {
  restoreEnv?.();
  await Promise.all([dynamo?.close(), xai?.close()]);
});

/** Each case starts without failure marks: no paid defect counted, no run halted. */
async function clearMarks(): Promise<void> {
  const keys = [haltKey('run-f'), ...[GOOD, PAID].map((p) => defectKey(claimKey(p)))];
  for (const pk of keys) {
    await doc.send(new DeleteCommand({ TableName: dynamo.names.state, Key: { pk } }));
  }
}

afterEach(async () => {
  xai.setMode('ok');
  jest.restoreAllMocks();
  await clearMarks();
});

describe('a failing analysis', () => {
  it.each<[XaiSimMode, number]>([
    ['server-error', 3],
    ['overloaded', 3],
    ['truncated', 1],
    ['refusal', 1],
    ['out-of-range', 1],
    ['missing-holding', 1],
    ['credits-exhausted', 1],
  ])(
    'on %s fails the record, logs the portfolio id and leaves the last good analysis newest',
    async (mode, requests) => {
      // Prepare
      xai.setMode(mode);
      const errors = jest.spyOn(logger, 'error');
      const before = xai.requests.length;

      // Act
      const result = await analyzePortfolio(recordFor(GOOD), context());

      // Assess
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
      expect(xai.requests.length - before).toBe(requests);
      const stored = await rows(GOOD);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toEqual(lastGood);
      expect(errors).toHaveBeenCalledWith(
        expect.stringContaining(GOOD),
        expect.objectContaining({ portfolioId: GOOD }),
      );
      expect(await stateItem(doc, dynamo.names.state, claimKey(GOOD))).toBeUndefined();
    },
  );

  it('throws a clear error on a manual invoke and writes nothing', async () => {
    // Prepare
    xai.setMode('credits-exhausted');

    // Act
    const run = analyzePortfolio({ portfolio_id: GOOD }, context());

    // Assess
    await expect(run).rejects.toThrow(/credits exhausted/);
    expect(await rows(GOOD)).toEqual([lastGood]);
  });

  it('can be retried once xAI recovers, because its claim was released', async () => {
    // Act
    const result = await analyzePortfolio(recordFor(GOOD), context());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const stored = await rows(GOOD);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({ dataAsOf: DATA_AS_OF });
    expect(await stateItem(doc, dynamo.names.state, claimKey(GOOD))).toMatchObject({
      status: 'done',
      analysisTimestamp: stored[0].timestamp,
    });
  });
});

describe('paid failures are not paid again', () => {
  it('sends an answer that keeps failing validation twice, then fails the record without a call', async () => {
    // Prepare
    xai.setMode('out-of-range');
    const errors = jest.spyOn(logger, 'error');
    const before = xai.requests.length;

    // Act: the first receive, its retry, and the three receives SQS still makes before the DLQ.
    const results: unknown[] = [];
    for (let receive = 1; receive <= 5; receive++) {
      results.push(await analyzePortfolio(recordFor(PAID), context()));
    }

    // Assess
    expect(xai.requests.length - before).toBe(2);
    for (const result of results) {
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    }
    expect(errors).toHaveBeenLastCalledWith(
      expect.stringContaining(`Analysis of portfolio ${PAID} failed (invalid-answer)`),
      expect.objectContaining({
        portfolioId: PAID,
        error: expect.stringContaining('was not sent to xAI again: its last 2 paid answers'),
      }),
    );
    expect(await rows(PAID)).toEqual([]);
  });

  it('halts the run after credits run out: the next portfolio fails fast with the same reason', async () => {
    // Prepare
    xai.setMode('credits-exhausted');
    const errors = jest.spyOn(logger, 'error');
    const before = xai.requests.length;

    // Act
    const first = await analyzePortfolio(recordFor(HALT_A), context());
    const next = await analyzePortfolio(recordFor(HALT_B), context());

    // Assess
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(next).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(xai.requests.length - before).toBe(1);
    expect(errors).toHaveBeenLastCalledWith(
      expect.stringContaining(`Analysis of portfolio ${HALT_B} failed (xai-credits-exhausted)`),
      expect.objectContaining({
        error: expect.stringMatching(/run run-f is halted until .*credits exhausted/),
      }),
    );
    expect(await stateItem(doc, dynamo.names.state, claimKey(HALT_B))).toBeUndefined();
  });

  it('still sends a manual invocation during a halt (an operator testing a fixed key)', async () => {
    // Prepare
    xai.setMode('credits-exhausted');
    await analyzePortfolio(recordFor(HALT_A), context());
    xai.setMode('ok');
    const before = xai.requests.length;

    // Act
    const result = await analyzePortfolio({ portfolio_id: MANUAL }, context());

    // Assess
    expect(result).toMatchObject({ status: 'stored' });
    expect(xai.requests.length - before).toBe(1);
  });
});

describe('records that cannot succeed', () => {
  it('acknowledges a portfolio without any market data, calls no model and logs an ERROR naming it', async () => {
    // Prepare
    const errors = jest.spyOn(logger, 'error');
    const before = xai.requests.length;

    // Act
    const result = await analyzePortfolio(recordFor(NO_DATA), context());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(xai.requests.length).toBe(before);
    expect(await rows(NO_DATA)).toHaveLength(0);
    expect(errors).toHaveBeenCalledWith(
      expect.stringContaining(NO_DATA),
      expect.objectContaining({
        portfolioId: NO_DATA,
        kind: 'no-market-data',
        error: expect.stringMatching(/No market data yet.*IPOA, IPOB/),
      }),
    );
  });

  it('throws "no market data yet" on a manual invoke', async () => {
    // Act
    const run = analyzePortfolio({ portfolio_name: 'Fresh Listings' }, context());

    // Assess
    await expect(run).rejects.toThrow(/No market data yet for any holding of portfolio/);
  });

  it('acknowledges a malformed message and logs its messageId', async () => {
    // Prepare
    const errors = jest.spyOn(logger, 'error');

    // Act
    const result = await analyzePortfolio(createSqsEvent(['{"portfolio": 1}']), context());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/Malformed/),
      expect.objectContaining({ messageId: 'msg-1' }),
    );
  });
});

describe('manual invocations', () => {
  it('refuses an ambiguous name, listing every matching id, and writes nothing', async () => {
    // Prepare
    const before = xai.requests.length;

    // Act
    const run = analyzePortfolio({ portfolio_name: 'Growth' }, context());

    // Assess
    await expect(run).rejects.toThrow(
      new RegExp(`2 portfolios are named "Growth": ${TWIN_A} .*${TWIN_B}`),
    );
    expect(xai.requests.length).toBe(before);
    expect(await rows(TWIN_A)).toHaveLength(0);
    expect(await rows(TWIN_B)).toHaveLength(0);
  });

  it('throws a clear error for an unknown portfolio id', async () => {
    // Act
    const run = analyzePortfolio({ portfolio_id: 'no-such-portfolio' }, context());

    // Assess
    await expect(run).rejects.toThrow('No portfolio with id "no-such-portfolio"');
  });
});

describe('claims', () => {
  it('retries a record while a live claim is held and takes over one whose lease ran out', async () => {
    // Prepare
    const key = claimKey(CLAIMED);
    const live = {
      pk: key,
      status: 'in-progress',
      owner: 'other',
      leaseUntil: Date.now() + 120_000,
      expiresAt: 9_999_999_999,
    };
    await putItem(doc, dynamo.names.state, live);
    const before = xai.requests.length;

    // Act
    const whileLive = await analyzePortfolio(recordFor(CLAIMED), context());
    await putItem(doc, dynamo.names.state, { ...live, leaseUntil: Date.now() - 1 });
    const afterLapse = await analyzePortfolio(recordFor(CLAIMED), context());

    // Assess
    expect((whileLive as BatchAnalysisResult).batchItemFailures).toHaveLength(1);
    expect(afterLapse).toEqual({ batchItemFailures: [] });
    expect(xai.requests.length - before).toBe(1);
    expect(await rows(CLAIMED)).toHaveLength(1);
    expect(await stateItem(doc, dynamo.names.state, key)).toMatchObject({ status: 'done' });
  });
});
