/**
 * One benchmark case, run in its own process (a fresh module cache = a cold start of both
 * handlers): N tickers held in active portfolios, a first night (every ticker new) and the next
 * night (steady state), through the real handlers against dynalite, local SQS and the Polygon
 * simulator at 5 requests per minute, on a virtual clock. Sends a `CaseResult` over IPC.
 *
 * Usage: forked by scripts/bench.ts, or by hand (prints the result as JSON):
 *   BENCH_NIGHTS=1 npx tsx scripts/bench/market-night.ts 10000
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import * as path from 'node:path';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  QueryCommand,
  paginateScan,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { installVirtualClock } from './virtual-clock';
import { countDynamoRequests, holdDelayedMessages } from './instrument';
import type { CaseResult, NightResult } from './types';
import {
  DEFAULT_NIGHT,
  POSITIONS_PER_PORTFOLIO,
  POSITIONS_PER_TICKER,
  UNIVERSE,
} from './constants';
import {
  isTradingDay,
  latestCompletedSession,
} from '../../lambdas/market-data/domain/market-calendar';
import { startLocalSqs } from '../../sim/local-sqs';
import type { LocalTableNames } from '../../sim/local-tables';
import { depth, toSqsEvent } from '../../sim/queue-poller';
import {
  maxInWindow,
  startPolygonSimulator,
  syntheticTickers,
  SIMULATOR_API_KEY,
} from '../../sim/polygon-simulator';

const DAY_MS = 86_400_000;
/** processTicker's and processTickers' timeouts in lib/config/stages.ts. */
const WORKER_TIMEOUT_MS = 900_000;
const COLLECTOR_TIMEOUT_MS = 120_000;
/** Real-time guard per night: a stuck night is reported, not waited for forever. */
const NIGHT_REAL_LIMIT_MS = 60 * 60_000;

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type LogRecord = { level?: string; message?: string; [k: string]: unknown };

const tickerCount = Number(process.argv[2]);
if (!Number.isInteger(tickerCount) || tickerCount < 1) {
  console.error('usage: market-night.ts <tickers>');
  process.exit(2);
}
const nightStart = Date.parse(process.env.BENCH_NIGHT ?? DEFAULT_NIGHT);
// Setup (dynalite, local SQS, seeding) happens in the hour before the rule fires.
const clock = installVirtualClock(nightStart - 3_600_000);

// The service logs JSON lines through Powertools; keep them for the report instead of printing.
const logs: LogRecord[] = [];
function captureJsonLines(stream: NodeJS.WriteStream, forwardOther: boolean): void {
  const original = stream.write.bind(stream);
  stream.write = (chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.startsWith('{')) {
        try {
          const record = JSON.parse(line) as LogRecord;
          // benchAt: the virtual time the line was written (Powertools stamps the real time).
          if (typeof record.message === 'string') logs.push({ ...record, benchAt: Date.now() });
          continue;
        } catch {
          // not a log line
        }
      }
      if (forwardOther && line.trim()) original(`${line}\n`);
    }
    return true;
  };
}
captureJsonLines(process.stdout, false);
captureJsonLines(process.stderr, true);

function startDynamoProcess(): Promise<{
  child: ChildProcess;
  endpoint: string;
  names: LocalTableNames;
  env: Record<string, string>;
}> {
  const child = fork(path.join(__dirname, 'dynamo-server.ts'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      const info = m as { endpoint: string; names: LocalTableNames; env: Record<string, string> };
      resolve({ child, ...info });
    });
    child.once('exit', (code) => reject(new Error(`dynalite process exited with ${code}`)));
  });
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `bench-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function main(): Promise<void> {
  const realStart = performance.now();
  const dynamo = await startDynamoProcess();
  const sqs = await startLocalSqs({ ownProcess: true });
  const { queueUrl, dlqUrl } = await sqs.createQueue('ticker-processing-queue-bench');
  const polygon = await startPolygonSimulator({
    requestsPerMinute: 5,
    isTradingDay,
    universeSize: UNIVERSE,
    now: () => Date.now(),
  });
  const names = dynamo.names;
  // Portfolios, positions, seeding and checks go through the benchmark's own client (not counted).
  const harness = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  Object.assign(process.env, {
    ...dynamo.env,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SQS_QUEUE_URL: queueUrl,
    POLYGON_BASE_URL: polygon.url,
    POLYGON_API_KEY: SIMULATOR_API_KEY,
    POLYGON_REQUESTS_PER_MINUTE: '5',
    STAGE: 'bench',
    POWERTOOLS_SERVICE_NAME: 'backend-processing-bench',
    POWERTOOLS_METRICS_NAMESPACE: 'Bench',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  // POLYGON_BUDGET_WINDOW_MS is left unset: the budget runs with its deployed 60-s window.
  delete process.env.POLYGON_BUDGET_WINDOW_MS;
  delete process.env.POWERTOOLS_DEV;

  // The service's own SDK clients (module singletons), instrumented before the handlers use them.
  const awsClients = await import('../../lambdas/platform/aws-clients');
  const label = (table: string) => Object.entries(names).find(([, n]) => n === table)?.[0] ?? table;
  const dynamoCounter = countDynamoRequests(
    [awsClients.documentClient(true), awsClients.documentClient(false)],
    label,
  );
  const delays = holdDelayedMessages(awsClients.sqsClient(), () => Date.now());
  const processTickers = (await import('../../lambdas/handlers/process-tickers'))
    .handler as Handler;
  const processTicker = (await import('../../lambdas/handlers/process-ticker')).handler as Handler;

  // Portfolios: N tickers, each held by POSITIONS_PER_TICKER positions, 20 positions a portfolio.
  const tickers = syntheticTickers(tickerCount);
  const positionCount = tickerCount * POSITIONS_PER_TICKER;
  const portfolioCount = Math.ceil(positionCount / POSITIONS_PER_PORTFOLIO);
  const created = '2026-01-05T15:00:00.000Z';
  const items: { table: string; item: Record<string, unknown> }[] = [];
  for (let p = 0; p < portfolioCount; p++) {
    items.push({
      table: names.portfolios,
      item: {
        id: `bench-portfolio-${p}`,
        userId: `bench-user-${p}`,
        name: `Bench ${p}`,
        isActive: true,
        isDefault: true,
        createdAt: created,
        updatedAt: created,
      },
    });
  }
  for (let j = 0; j < positionCount; j++) {
    const shares = (j % 9) + 1;
    items.push({
      table: names.positions,
      item: {
        id: `bench-position-${j}`,
        portfolioId: `bench-portfolio-${Math.floor(j / POSITIONS_PER_PORTFOLIO)}`,
        ticker: tickers[j % tickerCount],
        shares,
        costBasis: shares * 20,
        averageCost: 20,
        createdAt: created,
        updatedAt: created,
      },
    });
  }
  for (let i = 0; i < items.length; i += 25) {
    const byTable: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> = {};
    for (const { table, item } of items.slice(i, i + 25))
      (byTable[table] ??= []).push({ PutRequest: { Item: marshall(item) } });
    await harness.send(new BatchWriteItemCommand({ RequestItems: byTable }));
  }
  const setupRealMs = performance.now() - realStart;

  async function verify(session: string, since: string) {
    let fresh = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < tickers.length) {
          const ticker = tickers[next++];
          const out = await harness.send(
            new QueryCommand({
              TableName: names.tickerData,
              KeyConditionExpression: 'ticker = :t',
              ExpressionAttributeValues: { ':t': { S: ticker } },
              ScanIndexForward: false,
              Limit: 1,
            }),
          );
          const row = out.Items?.[0];
          if (row?.asOf?.S === session && row.rsi?.N !== undefined && row.ma50?.N !== undefined)
            fresh++;
        }
      }),
    );
    let repriced = 0;
    for await (const page of paginateScan({ client: harness }, { TableName: names.positions })) {
      for (const item of page.Items ?? [])
        if (item.currentPrice?.N !== undefined && (item.updatedAt?.S ?? '') >= since) repriced++;
    }
    return { fresh, repriced };
  }

  async function night(labelName: NightResult['label'], startAt: number): Promise<NightResult> {
    clock.advanceTo(startAt);
    const skippedAtStart = clock.skippedMs;
    const realNightStart = performance.now();
    const startedAt = new Date(Date.now()).toISOString();
    const requestsBefore = polygon.requests.length;
    const logsBefore = logs.length;
    dynamoCounter.reset();
    delays.resetRequests();
    const errors: string[] = [];
    let invocations = 0;
    let failures = 0;
    let longestInvocationMs = 0;
    let workerTotalMs = 0;
    const collectorStart = Date.now();
    let lastDoneAt: number | undefined;
    let lastWrittenAt: number | undefined;

    const collected = (await processTickers(
      {
        version: '0',
        id: `bench-${labelName}`,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: startedAt.replace(/\.\d{3}Z$/, 'Z'),
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/bench'],
        detail: {},
      },
      lambdaContext('processTickers', COLLECTOR_TIMEOUT_MS),
    )) as { session: string; tickersQueued: number };
    const collectorMs = Date.now() - collectorStart;

    // The Lambda SQS poller, on the virtual clock: batch size 1 (as deployed); when nothing is
    // visible, jump to the next held (delayed) message.
    const realDeadline = performance.now() + NIGHT_REAL_LIMIT_MS;
    for (;;) {
      if (performance.now() > realDeadline) {
        errors.push('night did not finish within the real-time guard');
        break;
      }
      const out = await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          AttributeNames: ['All'],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) {
        const due = delays.takeEarliest();
        if (due) {
          clock.advanceTo(due.dueAt);
          await sqs.client.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: due.body }),
          );
          continue;
        }
        if ((await depth(sqs.client, queueUrl)) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const event = toSqsEvent(messages, queueUrl);
      invocations++;
      const logMark = logs.length;
      const invokedAt = Date.now();
      let failed: Set<string>;
      try {
        const result = (await processTicker(
          event,
          lambdaContext('processTicker', WORKER_TIMEOUT_MS),
        )) as { batchItemFailures?: { itemIdentifier: string }[] };
        failed = new Set((result.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (err) {
        errors.push(`processTicker threw: ${(err as Error).message}`);
        failed = new Set(messages.map((m) => m.MessageId!));
      }
      longestInvocationMs = Math.max(longestInvocationMs, Date.now() - invokedAt);
      workerTotalMs += Date.now() - invokedAt;
      if (logs.slice(logMark).some((l) => l.message === 'Refresh done')) lastDoneAt = Date.now();
      // The rows are written before the positions are repriced: the log line's (virtual) time.
      for (const l of logs.slice(logMark))
        if (l.message === 'Ticker rows written') lastWrittenAt = Number(l.benchAt);
      failures += failed.size;
      for (const m of messages) {
        if (failed.has(m.MessageId!)) {
          await sqs.client.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.client.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }),
          );
        }
      }
    }
    const dynamoCounts = dynamoCounter.reset();
    const sqsRequests = delays.resetRequests();
    const waitedMs = clock.skippedMs - skippedAtStart;
    const realMs = performance.now() - realNightStart;

    const nightLogs = logs.slice(logsBefore);
    const deferrals: Record<string, number> = {};
    const strategies: string[] = [];
    for (const l of nightLogs) {
      if (l.message === 'Refresh deferred') {
        const reason = String(l.reason);
        deferrals[reason] = (deferrals[reason] ?? 0) + 1;
      }
      if (l.message === 'Refresh planned')
        strategies.push(`${String(l.strategy)} (${String(l.calls)} calls)`);
      if (l.level === 'ERROR')
        errors.push(`${l.message}${l.error ? `: ${JSON.stringify(l.error)}` : ''}`.slice(0, 300));
    }
    const requests = polygon.requests.slice(requestsBefore);
    const { fresh, repriced } = await verify(collected.session, startedAt);
    return {
      label: labelName,
      session: collected.session,
      startedAt,
      polygon: {
        requests: requests.length,
        grouped: requests.filter((r) => r.path.startsWith('/v2/aggs/grouped/')).length,
        range: requests.filter((r) => r.path.includes('/range/')).length,
        rateLimited: requests.filter((r) => r.status === 429).length,
        otherErrors: requests.filter((r) => r.status !== 429 && (r.status >= 400 || r.status === 0))
          .length,
        maxInWindow: maxInWindow(
          requests.map((r) => r.at),
          60_000,
        ),
      },
      tickersFresh: fresh,
      positionsRepriced: repriced,
      freshAfterMs:
        lastDoneAt !== undefined && fresh === tickers.length
          ? (lastWrittenAt !== undefined && Number.isFinite(lastWrittenAt)
              ? lastWrittenAt
              : lastDoneAt) - startAt
          : null,
      repricedAfterMs:
        lastDoneAt !== undefined && repriced === positionCount ? lastDoneAt - startAt : null,
      waitedMs,
      realMs,
      invocations,
      deferrals,
      failures,
      dlq: await depth(sqs.client, dlqUrl),
      longestInvocationMs,
      lambda: {
        processTickers: {
          invocations: 1,
          totalMs: collectorMs,
          longestMs: collectorMs,
          timeoutMs: COLLECTOR_TIMEOUT_MS,
        },
        processTicker: {
          invocations,
          totalMs: workerTotalMs,
          longestMs: longestInvocationMs,
          timeoutMs: WORKER_TIMEOUT_MS,
        },
      },
      strategies,
      dynamo: dynamoCounts,
      sqs: sqsRequests,
      errors: errors.slice(0, 10),
    };
  }

  const first = await night('first', nightStart);
  // The next night: the rule fires a day later and the service's clock (Date.now) names the next
  // session; every ticker now has the previous session's row with its Wilder averages.
  let secondStart = nightStart + DAY_MS;
  while (secondStart <= Date.now()) secondStart += DAY_MS;
  // BENCH_NIGHTS=1 stops after the first night (for looking at one night by hand).
  const nights = [first];
  if (process.env.BENCH_NIGHTS !== '1') {
    nights.push(await night('steady', secondStart));
    // A third night on which the first held ticker executes a 10-for-1 split: its history is
    // re-based, at one splits lookup more than a steady night.
    let thirdStart = secondStart + DAY_MS;
    while (thirdStart <= Date.now()) thirdStart += DAY_MS;
    const executionDate = latestCompletedSession(thirdStart);
    polygon.setSplits([{ ticker: tickers[0], executionDate, splitFrom: 1, splitTo: 10 }]);
    nights.push(await night('split', thirdStart));
  }

  const dynaliteCpu = await new Promise<NodeJS.CpuUsage>((resolve) => {
    dynamo.child.once('message', (m) => resolve((m as { cpuUsage: NodeJS.CpuUsage }).cpuUsage));
    dynamo.child.send('cpu-usage');
  });
  const ownCpu = process.cpuUsage();
  const result: CaseResult = {
    tickers: tickerCount,
    portfolios: portfolioCount,
    positions: positionCount,
    universe: UNIVERSE,
    nights,
    maxInWindowOverall: maxInWindow(
      polygon.requests.map((r) => r.at),
      60_000,
    ),
    setupRealMs,
    cpuSeconds: {
      service: (ownCpu.user + ownCpu.system) / 1e6,
      dynalite: (dynaliteCpu.user + dynaliteCpu.system) / 1e6,
    },
    totalRealMs: performance.now() - realStart,
  };
  await polygon.close();
  await sqs.close();
  harness.destroy();
  dynamo.child.disconnect();
  if (process.send) process.send(result, () => process.exit(0));
  else {
    // Run by hand: the result on the real stdout (the patched stream keeps only log lines).
    writeSync(1, `${JSON.stringify(result, null, 1)}\n`);
    process.exit(0);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench case failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
