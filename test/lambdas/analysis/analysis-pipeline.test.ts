import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as analyzePortfolio } from '../../../lambdas/handlers/analyze-portfolio';
import { handler as analyzePortfolios } from '../../../lambdas/handlers/analyze-portfolios';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import { drainQueue } from '../../../sim/queue-poller';
import { startXaiSimulator, type XaiSimulator } from '../../../sim/xai-simulator';
import { createSqsEvent, lambdaContext, scheduledEvent } from '../../helpers/events';
import {
  analysesOf,
  analysisEnv,
  localDocumentClient,
  portfolioItem,
  positionItem,
  putAll,
  setEnv,
  tickerRow,
  userMessages,
  XAI_TEST_KEY,
} from './analysis-fixtures';

/**
 * analyzePortfolios → portfolio-analysis-queue (local SQS) → analyzePortfolio (the real handlers,
 * driven by the local SQS poller) against dynalite and the xAI simulator.
 */

const MAIN = '11111111-1111-4111-8111-111111111111';
const NEWCOMERS = '22222222-2222-4222-8222-222222222222';
const EMPTY = '33333333-3333-4333-8333-333333333333';
const INACTIVE = '44444444-4444-4444-8444-444444444444';
const TWICE = '55555555-5555-4555-8555-555555555555';
const DOOMED = '66666666-6666-4666-8666-666666666666';

let dynamo: LocalDynamo;
let sqs: LocalSqs;
let xai: XaiSimulator;
let doc: DynamoDBDocumentClient;
let queueUrl: string;
let dlqUrl: string;
let restoreEnv: () => void;

const context = () =>
  lambdaContext(170_000, 'zsmseven-backend-processing-api-test-analyzePortfolio');
const drain = () =>
  drainQueue({
    client: sqs.client,
    queueUrl,
    handler: analyzePortfolio,
    context,
    batchSize: 1,
    timeoutMs: 30_000,
  });
const rows = (portfolioId: string) => analysesOf(doc, dynamo.names.analyses, portfolioId);

beforeAll(async () => {
  [dynamo, sqs, xai] = await Promise.all([
    startLocalDynamo(),
    startLocalSqs(),
    startXaiSimulator({ apiKey: XAI_TEST_KEY }),
  ]);
  ({ queueUrl, dlqUrl } = await sqs.createQueue('portfolio-analysis-queue-test'));
  restoreEnv = setEnv(
    analysisEnv(dynamo, xai.url, {
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      ANALYSIS_QUEUE_URL: queueUrl,
    }),
  );
  doc = localDocumentClient(dynamo);

  await putAll(doc, dynamo.names.portfolios, [
    portfolioItem(MAIN, 'ZSM Seven'),
    portfolioItem(NEWCOMERS, 'Newcomers', { isActive: true }),
    portfolioItem(EMPTY, 'Empty'),
    portfolioItem(INACTIVE, 'Retired', { isActive: false }),
  ]);
  await putAll(doc, dynamo.names.positions, [
    positionItem('pos-1', MAIN, 'NVDA', '10', '1200'),
    positionItem('pos-2', MAIN, 'NVDA', '2.5', '450.75'),
    positionItem('pos-3', MAIN, 'AAPL', '8', '1500'),
    positionItem('pos-4', MAIN, 'MSFT', '3', '1100'),
    positionItem('pos-5', NEWCOMERS, 'AAPL', '1', '150'),
    positionItem('pos-6', NEWCOMERS, 'NEWCO', '100', '1000'),
    positionItem('pos-7', NEWCOMERS, 'OLDCO', '4', '80'),
    positionItem('pos-8', INACTIVE, 'AAPL', '1', '100'),
  ]);
  await putAll(doc, dynamo.names.tickerData, [
    tickerRow('NVDA', '2026-11-20', 176.2, 66.1, 168.4),
    tickerRow('NVDA', '2026-11-23', 181.5, 71.3, 169.9),
    tickerRow('AAPL', '2026-11-20', 226.1, 50.2, 227.5),
    tickerRow('AAPL', '2026-11-23', 228.4, 52.9, 227.8),
    tickerRow('MSFT', '2026-11-20', 410.3, 38.4, 432.1),
    {
      ticker: 'OLDCO',
      timestamp: '2026-11-21T04:31:07.512345',
      price: 21.75,
      rsi: 44.2,
      ma50: 23.1,
    },
  ]);
}, 90_000);

afterAll(async () => {
  restoreEnv?.();
  await Promise.all([dynamo?.close(), sqs?.close(), xai?.close()]);
});

describe('nightly analysis through the queue', () => {
  let fanOut: unknown;

  beforeAll(async () => {
    fanOut = await analyzePortfolios(scheduledEvent('2026-11-24T06:00:00Z'), context());
    await drain();
  }, 60_000);

  it('queues every active portfolio with positions and reports the skipped ones', () => {
    // Assess
    expect(fanOut).toEqual({
      runId: expect.any(String),
      found: 3,
      queued: 2,
      skipped: { noPositions: 1 },
      // Two portfolios: Lambda's minimum (no mapping locally, so only derived and logged).
      concurrency: 2,
      expectedFinish: expect.any(String),
    });
  });

  it('stores one readable analysis per queued portfolio', async () => {
    // Act
    const [main, newcomers] = await Promise.all([rows(MAIN), rows(NEWCOMERS)]);

    // Assess
    expect(main).toHaveLength(1);
    expect(newcomers).toHaveLength(1);
    const row = main[0];
    expect(row).toMatchObject({
      portfolio: MAIN,
      portfolioName: 'ZSM Seven',
      model: 'grok-4.3',
      dataAsOf: '2026-11-23',
      promptVersion: PROMPT_VERSION,
      staleTickers: ['MSFT'],
    });
    expect(String(row.timestamp)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(JSON.parse(String(row.analysis))).toHaveProperty('scores');
    expect(row.promptTokens).toEqual(expect.any(Number));
    expect(row.costUsd).toBeGreaterThan(0);
    expect(row.costInUsdTicks).toBe(Math.round(Number(row.costUsd) * 1e10));
  });

  it('stores parsed_data as a single-encoded array of scored holdings whose weights sum to 100', async () => {
    // Act
    const [row] = await rows(MAIN);
    const parsed = JSON.parse(String(row.parsed_data)) as Record<string, unknown>[];

    // Assess
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed.map((e) => e.ticker).sort()).toEqual(['AAPL', 'MSFT', 'NVDA']);
    for (const e of parsed) {
      expect(e.score).toEqual(expect.any(Number));
      expect(e.score as number).toBeGreaterThanOrEqual(-10);
      expect(e.score as number).toBeLessThanOrEqual(10);
      expect(String(e.reason).length).toBeGreaterThan(0);
    }
    const nvda = parsed.find((e) => e.ticker === 'NVDA');
    expect(nvda).toMatchObject({ price: 181.5, rsi: 71.3, ma50: 169.9, asOf: '2026-11-23' });
    expect(nvda?.pl_percent).toBeCloseTo(((12.5 * 181.5 - 1650.75) / 1650.75) * 100, 2);
    const weights = parsed.reduce((s, e) => s + (e.weight_percent as number), 0);
    expect(weights).toBeCloseTo(100, 1);
  });

  it('names tickers without market data in the prompt and scores the old-format row', async () => {
    // Act
    const [row] = await rows(NEWCOMERS);
    const sent = userMessages(xai.requests, 'Newcomers');

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('No market data, do not score: NEWCO');
    expect(String(row.prompt)).toContain('No market data, do not score: NEWCO');
    expect(row.missingTickers).toEqual(['NEWCO']);
    const parsed = JSON.parse(String(row.parsed_data)) as Record<string, unknown>[];
    expect(parsed.map((e) => e.ticker).sort()).toEqual(['AAPL', 'OLDCO']);
    expect(parsed.find((e) => e.ticker === 'OLDCO')).toMatchObject({
      asOf: '2026-11-20',
      stale: true,
    });
  });

  it('never queues or analyses an inactive portfolio', async () => {
    // Act
    const retired = await rows(INACTIVE);

    // Assess
    expect(retired).toHaveLength(0);
    expect(userMessages(xai.requests, 'Retired')).toHaveLength(0);
    expect(xai.requests).toHaveLength(2);
  });

  it('sends xAI a strict JSON schema at temperature 0 with a completion cap and no stop or penalties', () => {
    // Act
    const body = xai.requests[0];

    // Assess
    expect(body).toMatchObject({
      model: 'grok-4.3',
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { strict: true } },
    });
    expect(body.max_completion_tokens).toEqual(expect.any(Number));
    for (const key of ['stop', 'presence_penalty', 'frequency_penalty', 'max_tokens']) {
      expect(body).not.toHaveProperty(key);
    }
  });
});

describe('idempotency', () => {
  it('analyses a redelivered message once: one row and one xAI request', async () => {
    // Prepare
    const before = xai.requests.length;
    for (let i = 0; i < 2; i++) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ v: 1, portfolioId: MAIN }),
        }),
      );
    }

    // Act
    const drained = await drain();

    // Assess
    expect(drained).toMatchObject({ failures: 0, leftOver: 0 });
    expect(xai.requests.length).toBe(before);
    expect(await rows(MAIN)).toHaveLength(1);
  });

  it('analyses a portfolio once when two invocations run at the same time', async () => {
    // Prepare
    await putAll(doc, dynamo.names.portfolios, [portfolioItem(TWICE, 'Twice')]);
    await putAll(doc, dynamo.names.positions, [positionItem('pos-9', TWICE, 'NVDA', '1', '100')]);
    const before = xai.requests.length;
    xai.setMode('slow', { times: 2, delayMs: 400 });
    const event = createSqsEvent([{ v: 1, portfolioId: TWICE }], 'portfolio-analysis-queue-test');

    // Act
    const results = await Promise.all([
      analyzePortfolio(event, context()),
      analyzePortfolio(event, context()),
    ]);

    // Assess
    // The second is retried after the lease (SQS redelivers it), not acknowledged unanalysed.
    const retried = results.map((r) => (r as { batchItemFailures: unknown[] }).batchItemFailures);
    expect(retried.map((f) => f.length).sort()).toEqual([0, 1]);
    expect(xai.requests.length - before).toBe(1);
    expect(await rows(TWICE)).toHaveLength(1);
    xai.setMode('ok');
  });

  it('returns the stored analysis to a manual invoke instead of paying again', async () => {
    // Prepare
    const before = xai.requests.length;
    const [stored] = await rows(MAIN);

    // Act
    const result = await analyzePortfolio({ portfolio_name: 'ZSM Seven' }, context());

    // Assess
    expect(result).toMatchObject({
      status: 'skipped',
      reason: 'already-analysed',
      analysis: { portfolio: MAIN, timestamp: stored.timestamp, dataAsOf: '2026-11-23' },
    });
    expect(xai.requests.length).toBe(before);
  });

  it('re-runs with force and stores a second, newest row', async () => {
    // Prepare
    const [first] = await rows(MAIN);

    // Act
    const result = await analyzePortfolio({ portfolio_id: MAIN, force: true }, context());

    // Assess
    const all = await rows(MAIN);
    expect(all).toHaveLength(2);
    expect(String(all[0].timestamp) > String(first.timestamp)).toBe(true);
    expect(all[0]).toMatchObject({ forced: true, dataAsOf: '2026-11-23' });
    expect(result).toMatchObject({
      status: 'stored',
      analysis: {
        portfolio: MAIN,
        portfolioName: 'ZSM Seven',
        timestamp: all[0].timestamp,
        dataAsOf: '2026-11-23',
        scores: expect.arrayContaining([
          expect.objectContaining({ ticker: 'NVDA', score: expect.any(Number) }),
        ]),
      },
    });
  });
});

describe('failures', () => {
  it('moves a permanently failing analysis to the DLQ after its retries and stores nothing', async () => {
    // Prepare
    await putAll(doc, dynamo.names.portfolios, [portfolioItem(DOOMED, 'Doomed')]);
    await putAll(doc, dynamo.names.positions, [positionItem('pos-10', DOOMED, 'AAPL', '2', '300')]);
    xai.setMode('credits-exhausted');
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ v: 1, portfolioId: DOOMED }),
      }),
    );

    // Act
    const drained = await drain();
    xai.setMode('ok');

    // Assess
    expect(drained.leftOver).toBe(0);
    expect(drained.failures).toBe(5);
    const dead = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect((dead.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}').portfolioId)).toEqual([
      DOOMED,
    ]);
    expect(await rows(DOOMED)).toHaveLength(0);
  });
});
