import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { handler as analyzePortfolio } from '../../../lambdas/handlers/analyze-portfolio';
import { logger, metrics } from '../../../lambdas/platform/observability';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import { depth, drainQueue, toSqsEvent } from '../../../sim/queue-poller';
import {
  startXaiSimulator,
  type XaiRateDecision,
  type XaiSimulator,
} from '../../../sim/xai-simulator';
import { lambdaContext } from '../../helpers/events';
import {
  analysesOf,
  analysisEnv,
  localDocumentClient,
  seedNvdaPortfolios,
  setEnv,
  XAI_TEST_KEY,
} from './analysis-fixtures';

/**
 * xAI 429 pacing end to end (issue 17): the real analyzePortfolio handler, its queue on the
 * local SQS (delays and the DLQ redrive as SQS has them), dynalite, and the xAI simulator
 * enforcing a small requests-per-minute limit with xAI's 429 body and `Retry-After`.
 *
 * The simulator's rate window runs on a virtual clock that moves 29 s per request: requests
 * come a little faster than its 2 RPM, so every third one is refused with `Retry-After: 2`
 * whatever the machine's speed or the real date. The 2 s the client and SQS then really wait
 * are the compressed part of the night; nothing else is timed.
 */

const RPM = 2;
const STEP_MS = 29_000;
const RETRY_AFTER_MS = 2_000;
const FN = 'zsmseven-backend-processing-api-test-analyzePortfolio';
const DEFER_WARNING = 'xAI rate limit: analysis re-queued with a delay';
const RETRY_WARNING = 'xAI request failed, retrying';
/**
 * Remaining time of an invocation that cannot wait out a Retry-After: the client keeps 15 s for
 * storing the result and needs 2 s for an attempt, so 3.5 s allow one attempt and no 2 s wait.
 */
const SHORT_MS = 18_500;

const night = Array.from(
  { length: 9 },
  (_, i) => `cccccccc-0000-4000-8000-${String(i).padStart(12, '0')}`,
);
const daytime = Array.from(
  { length: 3 },
  (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`,
);

let dynamo: LocalDynamo;
let sqs: LocalSqs;
let xai: XaiSimulator;
let doc: DynamoDBDocumentClient;
let queueUrl: string;
let dlqUrl: string;
let restoreEnv: () => void;
let virtualMs = Date.parse('2026-11-24T06:00:00.000Z');

/** The simulator's clock: each valid request 29 s after the one before. */
function simClock(): number {
  const at = virtualMs;
  virtualMs += STEP_MS;
  return at;
}

/** A context whose remaining time stays at `ms`, however long the machine takes. */
const frozenContext = (ms: number): Context => ({
  ...lambdaContext(ms, FN),
  getRemainingTimeInMillis: () => ms,
});

const metricSum = (spy: jest.SpyInstance, name: string) =>
  spy.mock.calls.filter((c) => c[0] === name).reduce((n, c) => n + Number(c[2]), 0);
const warnings = (spy: jest.SpyInstance, message: string) =>
  spy.mock.calls.filter((c) => c[0] === message).map((c) => c[1] as Record<string, unknown>);

async function enqueue(portfolioIds: readonly string[]): Promise<void> {
  await sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: portfolioIds.map((portfolioId, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({ v: 1, portfolioId, runId: 'night-2026-11-24' }),
      })),
    }),
  );
}

/** Receives what is visible now, waiting up to `waitSeconds` for the first message. */
async function receive(url: string, waitSeconds: number): Promise<Message[]> {
  const out = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      AttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** One invocation as the Lambda poller runs it: acknowledged records are deleted. */
async function invoke(messages: readonly Message[], context: Context) {
  const result = (await analyzePortfolio(toSqsEvent(messages, queueUrl), context)) as {
    batchItemFailures: { itemIdentifier: string }[];
  };
  const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of messages.filter((x) => !failed.has(x.MessageId!))) {
    await sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }),
    );
  }
  return result;
}

async function queueCounts(url: string) {
  const out = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const n = (k: QueueAttributeName) => Number(out.Attributes?.[k] ?? 0);
  return {
    visible: n('ApproximateNumberOfMessages'),
    inFlight: n('ApproximateNumberOfMessagesNotVisible'),
    delayed: n('ApproximateNumberOfMessagesDelayed'),
  };
}

/** The most admitted requests in any 60 s window of the simulator's clock. */
function busiestMinute(decisions: readonly XaiRateDecision[]): number {
  const admitted = decisions.filter((d) => d.admitted).map((d) => d.at);
  return Math.max(
    0,
    ...admitted.map((t) => admitted.filter((u) => u > t - 60_000 && u <= t).length),
  );
}

const bodyOf = (m: { body?: string; Body?: string }) =>
  JSON.parse(m.body ?? m.Body ?? '{}') as { portfolioId: string; deferrals?: number };

beforeAll(async () => {
  [dynamo, sqs, xai] = await Promise.all([
    startLocalDynamo(),
    startLocalSqs(),
    startXaiSimulator({
      apiKey: XAI_TEST_KEY,
      limits: { requestsPerMinute: RPM, tokensPerMinute: 10_000_000 },
      now: simClock,
    }),
  ]);
  ({ queueUrl, dlqUrl } = await sqs.createQueue('portfolio-analysis-queue-test'));
  restoreEnv = setEnv(
    analysisEnv(dynamo, xai.url, {
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      ANALYSIS_QUEUE_URL: queueUrl,
    }),
  );
  doc = localDocumentClient(dynamo);
  const all = [...night, ...daytime];
  await seedNvdaPortfolios(doc, dynamo.names, all, 'Paced', {
    asOf: '2026-11-23',
    price: 181.5,
    rsi: 71.3,
    ma50: 169.9,
  });
}, 90_000);

afterAll(async () => {
  restoreEnv?.();
  await Promise.all([dynamo?.close(), sqs?.close(), xai?.close()]);
});

let added: jest.SpyInstance;
let warned: jest.SpyInstance;
let errors: jest.SpyInstance;
let before: number;
beforeEach(async () => {
  // Each case on an empty queue and DLQ, an hour later on the simulator's clock (an empty window).
  // One after the other: the queue is re-created with a redrive policy naming the DLQ.
  await sqs.purge(dlqUrl);
  await sqs.purge(queueUrl);
  virtualMs += 3_600_000;
  before = xai.rateDecisions.length;
  added = jest.spyOn(metrics, 'addMetric');
  warned = jest.spyOn(logger, 'warn');
  errors = jest.spyOn(logger, 'error');
});
afterEach(() => jest.restoreAllMocks());

describe('xAI 429 pacing through the analyzePortfolio handler', () => {
  it('re-queues the records an invocation cannot wait for, and the night drains with every portfolio analysed once', async () => {
    // Prepare: nine portfolios queued, one invocation with too little time to wait 2 s.
    await enqueue(night);
    const first = await receive(queueUrl, 1);
    expect(first).toHaveLength(night.length);

    // Act: the first invocation; then the poller drains the queue, delayed messages included.
    const result = await invoke(first, frozenContext(SHORT_MS));
    const afterFirst = await queueCounts(queueUrl);
    const visibleAtOnce = await receive(queueUrl, 0);
    const deferredFirst = warnings(warned, DEFER_WARNING);
    const drained: SQSEvent[] = [];
    const drainResult = await drainQueue({
      client: sqs.client,
      queueUrl,
      handler: (event: SQSEvent, context: Context) => {
        drained.push(event);
        return analyzePortfolio(event, context);
      },
      context: () => frozenContext(SHORT_MS),
      batchSize: 10,
      timeoutMs: 30_000,
    });

    // Assess: every third request was refused; those records were acknowledged, not failed...
    expect(result).toEqual({ batchItemFailures: [] });
    const order = first.map((m) => bodyOf(m).portfolioId);
    expect(deferredFirst.map((w) => w.portfolioId)).toEqual([order[2], order[5], order[8]]);
    for (const w of deferredFirst) {
      expect(w).toMatchObject({ retryAfterMs: RETRY_AFTER_MS, deferrals: 1 });
      expect(w.delaySeconds).toBeGreaterThanOrEqual(2);
      expect(w.delaySeconds).toBeLessThanOrEqual(3);
    }
    // ...and sent again with a delay: not visible at once, then back with their deferral count.
    expect(afterFirst).toEqual({ visible: 0, inFlight: 0, delayed: 3 });
    expect(visibleAtOnce).toEqual([]);
    const redelivered = drained.flatMap((e) => e.Records.map(bodyOf));
    expect(
      redelivered
        .slice(0, 3)
        .map((b) => [b.portfolioId, b.deferrals])
        .sort(),
    ).toEqual(deferredFirst.map((w) => [w.portfolioId, 1]).sort());
    // The drain's third request was refused as well: that record came back a second time.
    expect(redelivered).toHaveLength(4);
    expect(redelivered[3].deferrals).toBe(2);
    expect(drainResult).toMatchObject({ failures: 0, leftOver: 0 });
    expect(await depth(sqs.client, dlqUrl)).toBe(0);
    expect(metricSum(added, 'AnalysesDeferred')).toBe(4);
    expect(warnings(warned, DEFER_WARNING)).toHaveLength(4);
    expect(metricSum(added, 'AnalysisFailures')).toBe(0);
    expect(metricSum(added, 'AnalysesStored')).toBe(night.length);
    expect(errors).not.toHaveBeenCalled();
    // Every portfolio has exactly one analysis.
    const rows = await Promise.all(night.map((id) => analysesOf(doc, dynamo.names.analyses, id)));
    expect(rows.map((r) => r.length)).toEqual(night.map(() => 1));
    // The simulator never served more than its RPM in any minute of its clock.
    const decisions = xai.rateDecisions.slice(before);
    expect(decisions).toHaveLength(13);
    expect(decisions.flatMap((d, i) => (d.admitted ? [] : [i + 1]))).toEqual([3, 6, 9, 12]);
    for (const refused of decisions.filter((d) => !d.admitted)) {
      expect(refused).toMatchObject({ limit: 'rpm', retryAfterSeconds: 2 });
    }
    expect(busiestMinute(decisions)).toBe(RPM);
  }, 60_000);

  it('waits out the Retry-After in the invocation when it has the time, and re-queues nothing', async () => {
    // Prepare: three portfolios, an invocation with minutes left.
    await enqueue(daytime);
    const messages = await receive(queueUrl, 1);
    expect(messages).toHaveLength(daytime.length);

    // Act
    const started = performance.now();
    const result = await invoke(messages, lambdaContext(170_000, FN));
    const tookMs = performance.now() - started;

    // Assess: the third request got 429, the client slept 2 s and its second attempt was served.
    expect(result).toEqual({ batchItemFailures: [] });
    const decisions = xai.rateDecisions.slice(before);
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false, true]);
    expect(warnings(warned, RETRY_WARNING)).toEqual([
      expect.objectContaining({ attempt: 1, delayMs: RETRY_AFTER_MS, status: 429 }),
    ]);
    expect(tookMs).toBeGreaterThanOrEqual(RETRY_AFTER_MS);
    expect(warnings(warned, DEFER_WARNING)).toEqual([]);
    expect(metricSum(added, 'AnalysesDeferred')).toBe(0);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const rows = await Promise.all(daytime.map((id) => analysesOf(doc, dynamo.names.analyses, id)));
    expect(rows.map((r) => r.length)).toEqual([1, 1, 1]);
    expect(busiestMinute(decisions)).toBe(RPM);
    expect(errors).not.toHaveBeenCalled();
  }, 60_000);
});
