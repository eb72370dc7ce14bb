/**
 * Lambda and SQS delivery faults during a whole night: an invocation killed mid-flight (run in a
 * worker thread from its esbuild bundle, terminated while DynamoDB holds its write: the write is
 * applied, the answer never arrives), duplicate deliveries, and two overlapping nightly runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { analysisKey } from '../../lambdas/analysis/flows';
import { PROMPT_VERSION } from '../../lambdas/analysis/domain/prompt';
import { stateKeys } from '../../lambdas/platform/state-keys';
import type { ProxiedRequest } from '../../sim/dynamo-fault-proxy';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import {
  CORE,
  GROWTH,
  standardSeed,
  useWorld,
  toSqsEvent,
  withNewTickers,
  xaiPortfolioName,
  type Night,
  type World,
} from './harness/world';

let world: World;
useWorld('lambda', (w) => (world = w));

/** Receives the one message waiting in a queue (as the Lambda poller would). */
const receiveOne = async (queueUrl: string) => {
  for (let i = 0; i < 10; i++) {
    const out = await world.sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        AttributeNames: ['All'],
      }),
    );
    if (out.Messages?.[0]) return out.Messages[0];
  }
  throw new Error(`no message arrived in ${queueUrl}`);
};

/** The visibility timeout ran out: the message is delivered again. */
const redeliver = (queueUrl: string, receiptHandle: string) =>
  world.sqs.client.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: 0,
    }),
  );

faultCase(
  'L01',
  async (rec) => {
    const seeded = await world.seed(
      standardSeed({
        positions: [
          { id: 'pos-core-zaca', portfolioId: CORE, ticker: 'ZACA', shares: '7', costBasis: '70' },
          {
            id: 'pos-growth-zacb',
            portfolioId: GROWTH,
            ticker: 'ZACB',
            shares: '2',
            costBasis: '5',
          },
        ],
      }),
    );
    const finish = world.observe();
    const fanOut = await world.handlers.processTickers({}, world.context('processTickers'));
    const q = world.queues.tickers;
    // The 4th batch of rows is applied, and the invocation dies before it hears back. A job
    // that defers parks its bars and writes rows only in its last invocation, so the job's
    // parts run one by one until one of them reaches that batch.
    world.proxy.addRule({
      operation: 'BatchWriteItem',
      table: world.names.tickerData,
      after: 3,
      times: 1,
      fault: { kind: 'hold' },
    });
    const held = world.proxy.nextHold();
    let job = await receiveOne(q.queueUrl);
    let killable = await world.invokeKillable(
      'processTicker',
      toSqsEvent([job], q.queueUrl),
      900_000,
    );
    for (
      let part = 1;
      !(await Promise.race([held.then(() => true), killable.done.then(() => false)]));
      part++
    ) {
      if (part > 30) throw new Error('no part of the job reached its 4th batch of rows');
      await world.sqs.client.send(
        new DeleteMessageCommand({ QueueUrl: q.queueUrl, ReceiptHandle: job.ReceiptHandle! }),
      );
      job = await receiveOne(q.queueUrl);
      killable = await world.invokeKillable(
        'processTicker',
        toSqsEvent([job], q.queueUrl),
        900_000,
      );
    }
    await killable.kill();
    await expect(killable.done).rejects.toThrow(/killed/);
    const rowsBefore = world.proxy.requests.filter(
      (r) => r.operation === 'BatchWriteItem' && r.tables.includes(world.names.tickerData),
    ).length;
    await redeliver(q.queueUrl, job.ReceiptHandle!);

    const tickerDrain = await world.drain('tickers');
    const analysisFanOut = await world.handlers.analyzePortfolios(
      {},
      world.context('analyzePortfolios'),
    );
    const analysisDrain = await world.drain('analysis');
    const night: Night = finish({
      session: seeded.session,
      fanOut,
      tickerDrain,
      analysisFanOut,
      analysisDrain,
    });
    night.lines.push(...killable.lines());

    rec.did(
      `killed after ${rowsBefore} row batches (the 4th applied, unanswered); the redelivered job completed; ${describeNight(night)}`,
    );
    // Rows are written 4 batches at a time (ticker-data-repository.ts): while the 4th is held,
    // the others in flight may complete and more start, so at least 4 were sent before the kill.
    expect(rowsBefore).toBeGreaterThanOrEqual(4);
    await checkNight(world, seeded, night, rec);
    rec.checked('the killed invocation had written rows before it died');
  },
  180_000,
);

faultCase(
  'L02',
  async (rec) => {
    const seeded = await world.seed();
    const finish = world.observe();
    const refresh = await world.nightParts({ analysis: false });
    const analysisFanOut = await world.handlers.analyzePortfolios(
      {},
      world.context('analyzePortfolios'),
    );
    const q = world.queues.analysis;
    const message = await receiveOne(q.queueUrl);
    const portfolioId = String((JSON.parse(message.Body!) as { portfolioId: string }).portfolioId);
    world.proxy.addRule({
      operation: 'PutItem',
      table: world.names.analyses,
      times: 1,
      fault: { kind: 'hold' },
    });
    const xaiBefore = world.xai.requests.length;
    // 18 s left: enough for the xAI call (the client keeps 15 s in reserve); the claim's lease
    // is the invocation's deadline plus 10 s.
    const killable = await world.invokeKillable(
      'analyzePortfolio',
      toSqsEvent([message], q.queueUrl),
      18_000,
    );
    await Promise.race([
      world.proxy.nextHold(),
      killable.done.then(
        (r) => {
          throw new Error(
            `the invocation ended before its write was held: ${JSON.stringify(r)}; ${killable.lines().join(' / ').slice(0, 2000)}`,
          );
        },
        (e: Error) => {
          throw new Error(
            `the invocation failed before its write was held: ${e.message}; ${killable.lines().join(' / ').slice(0, 2000)}`,
          );
        },
      ),
    ]);
    await killable.kill();
    const claim = (
      await world.doc.send(
        new GetCommand({
          TableName: world.names.state,
          Key: {
            pk: analysisKey({
              portfolioId,
              model: process.env.XAI_MODEL!,
              promptVersion: PROMPT_VERSION,
              dataAsOf: seeded.session,
            }),
          },
        }),
      )
    ).Item;
    expect(claim).toMatchObject({ status: 'in-progress' });
    // SQS redelivers after the visibility timeout (6 × the function timeout), past the lease.
    await sleep(Math.max(0, Number(claim!.leaseUntil.toString()) - Date.now() + 200));
    await redeliver(q.queueUrl, message.ReceiptHandle!);
    const analysisDrain = await world.drain('analysis');
    const night = finish({ ...refresh, analysisFanOut, analysisDrain });
    night.lines.push(...killable.lines());

    const name = seeded.portfolios.find((p) => p.id === portfolioId)?.name;
    const calls = world.xai.requests
      .slice(xaiBefore)
      .filter((r) => xaiPortfolioName(r) === name).length;
    rec.did(
      `killed after its analysis row was written; after the lease the retry made ${calls} xAI call(s) for that portfolio in all; ${describeNight(night)}`,
    );
    await checkNight(world, seeded, night, rec);
    expect(calls).toBe(1);
    rec.checked('xAI called once for the killed portfolio (not paid twice)');
  },
  180_000,
);

faultCase('L03', async (rec) => {
  const seeded = await world.seed();
  world.duplicateSends = true;
  const finish = world.observe();

  const fanOut = await world.handlers.processTickers({}, world.context('processTickers'));
  const [a, b] = await Promise.all([world.drain('tickers'), world.drain('tickers')]);
  const analysisFanOut = await world.handlers.analyzePortfolios(
    {},
    world.context('analyzePortfolios'),
  );
  const [c, d] = await Promise.all([world.drain('analysis'), world.drain('analysis')]);
  const night = finish({
    session: seeded.session,
    fanOut,
    analysisFanOut,
    tickerDrain: {
      invocations: a.invocations + b.invocations,
      failures: a.failures + b.failures,
      leftOver: 0,
    },
    analysisDrain: {
      invocations: c.invocations + d.invocations,
      failures: c.failures + d.failures,
      leftOver: 0,
    },
  });

  rec.did(
    `${night.tickerDrain!.invocations} job deliveries and ${night.analysisDrain!.invocations} analysis deliveries, two consumers each; ${describeNight(night)}`,
  );
  // Every job message, the fan-out's and any deferral's, is delivered twice.
  expect({ deliveries: night.tickerDrain!.invocations, deferrals: night.deferrals }).toEqual({
    deliveries: 2 * (fanOut.jobsQueued + night.deferrals.length),
    deferrals: night.deferrals,
  });
  expect(night.analysisDrain!.invocations).toBe(2 * analysisFanOut.queued);
  expect(night.xaiRequests).toHaveLength(2);
  await checkNight(world, seeded, night, rec);
  rec.checked('every message was delivered twice', 'one xAI call per portfolio');
});

faultCase('L04', async (rec) => {
  const seeded = await world.seed(
    standardSeed({
      positions: [
        { id: 'pos-core-zada', portfolioId: CORE, ticker: 'ZADA', shares: '1', costBasis: '10' },
      ],
    }),
  );
  const finish = world.observe();

  const [first, second] = await Promise.all([world.nightParts(), world.nightParts()]);
  const night = finish({ ...first, session: seeded.session });

  rec.did(
    `two runs queued ${first.fanOut?.jobsQueued}+${second.fanOut?.jobsQueued} jobs and ${first.analysisFanOut?.queued}+${second.analysisFanOut?.queued} analyses; ${describeNight(night)}`,
  );
  expect(first.fanOutError ?? second.fanOutError).toBeUndefined();
  expect(night.xaiRequests).toHaveLength(2);
  await checkNight(world, seeded, night, rec);
  rec.checked('both runs completed', 'one xAI call per portfolio');
});

/** A job message's key for its parked rows and finishing cursor (refresh-job/deferral.ts). */
const jobKeyOf = (body: string) => {
  const job = JSON.parse(body) as { runId: string; session: string; tickers: string[] };
  return `${job.runId}#${job.session}#${job.tickers[0]}`;
};

/** A state-table item's attribute (consistent read). */
const stateAttr = async (pk: string, attr: string): Promise<unknown> =>
  (
    await world.doc.send(
      new GetCommand({ TableName: world.names.state, Key: { pk }, ConsistentRead: true }),
    )
  ).Item?.[attr];

/** The ticker-data rows (`ticker#timestamp`) each BatchWriteItem of `requests` put. */
const rowKeys = (requests: readonly ProxiedRequest[]) =>
  requests
    .filter((r) => r.operation === 'BatchWriteItem' && r.tables.includes(world.names.tickerData))
    .flatMap((r) =>
      (
        (r.body.RequestItems as Record<string, { PutRequest?: { Item: any } }[]>)[
          world.names.tickerData
        ] ?? []
      ).map((w) => `${w.PutRequest?.Item.ticker.S}#${w.PutRequest?.Item.timestamp.S}`),
    );

/** Time left in each part of the job: below the finishing stop time, so a part writes one chunk. */
const SHORT_MS = 100_000;

faultCase(
  'L05',
  async (rec) => {
    const seeded = await world.seed(withNewTickers('ZAFA', 'ZAFB'));
    const finish = world.observe();
    const firstRequest = world.proxy.requests.length;
    const fanOut = await world.handlers.processTickers({}, world.context('processTickers'));
    const q = world.queues.tickers;
    const lines: string[] = [];
    // The job's parts run one by one with SHORT_MS left until one continues a finish (its
    // cursor has moved): each finishing part wrote one chunk and re-enqueued the job.
    let job = await receiveOne(q.queueUrl);
    let cursor: number;
    for (
      let part = 1;
      (cursor = Number((await stateAttr(stateKeys.finish(jobKeyOf(job.Body!)), 'next')) ?? 0)) ===
      0;
      part++
    ) {
      if (part > 40) throw new Error('no part of the job continued a finish');
      const k = await world.invokeKillable(
        'processTicker',
        toSqsEvent([job], q.queueUrl),
        SHORT_MS,
      );
      expect(await k.done).toEqual({ batchItemFailures: [] });
      lines.push(...k.lines());
      await world.sqs.client.send(
        new DeleteMessageCommand({ QueueUrl: q.queueUrl, ReceiptHandle: job.ReceiptHandle! }),
      );
      job = await receiveOne(q.queueUrl);
    }
    // The continuing part dies after its first batch of rows, its second applied, unanswered.
    world.proxy.addRule({
      operation: 'BatchWriteItem',
      table: world.names.tickerData,
      after: 1,
      times: 1,
      fault: { kind: 'hold' },
    });
    const held = world.proxy.nextHold();
    const killedFrom = world.proxy.requests.length;
    const killable = await world.invokeKillable(
      'processTicker',
      toSqsEvent([job], q.queueUrl),
      SHORT_MS,
    );
    expect(await Promise.race([held.then(() => 'held'), killable.done.then(() => 'ended')])).toBe(
      'held',
    );
    await killable.kill();
    await expect(killable.done).rejects.toThrow(/killed/);
    const killedRows = new Set(rowKeys(world.proxy.requests.slice(killedFrom)));
    const cursorAtKill = Number(await stateAttr(stateKeys.finish(jobKeyOf(job.Body!)), 'next'));
    const markerAtKill = await stateAttr(stateKeys.refreshMarker(), 'session');
    await redeliver(q.queueUrl, job.ReceiptHandle!);

    const tickerDrain = await world.drain('tickers');
    const analysisFanOut = await world.handlers.analyzePortfolios(
      {},
      world.context('analyzePortfolios'),
    );
    const analysisDrain = await world.drain('analysis');
    const night: Night = finish({
      session: seeded.session,
      fanOut,
      tickerDrain,
      analysisFanOut,
      analysisDrain,
    });
    night.lines.push(...lines, ...killable.lines());
    const written = rowKeys(world.proxy.requests.slice(firstRequest));
    const counts = new Map<string, number>();
    for (const k of written) counts.set(k, (counts.get(k) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([k]) => k);

    rec.did(
      `the finish had written ${cursor} of the job's tickers when a part was killed after ${killedRows.size} rows of its chunk (cursor still ${cursorAtKill}, refresh marker ${typeof markerAtKill === 'string' ? markerAtKill : 'unset'}); the redelivered part resumed there: ${written.length} rows written for ${counts.size} distinct; ${describeNight(night)}`,
    );
    expect(cursor).toBeGreaterThan(0);
    expect(cursorAtKill).toBe(cursor);
    expect(markerAtKill).not.toBe(seeded.session);
    expect(killedRows.size).toBeGreaterThan(0);
    expect(twice.length).toBeGreaterThan(0);
    expect(twice.every((k) => killedRows.has(k) && counts.get(k) === 2)).toBe(true);
    await checkNight(world, seeded, night, rec);
    rec.checked(
      'the finish spanned invocations (cursor moved before the kill)',
      'the night was not reported done before its last row',
      "only the killed chunk's rows written twice, none lost",
    );
  },
  240_000,
);
