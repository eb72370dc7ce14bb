/**
 * The world a fault case runs in: the real handlers (imported from source, as Lambda loads
 * them: after the environment is set) against
 * - DynamoDB: dynalite, reached through the fault-injecting proxy (sim/dynamo-fault-proxy.ts);
 * - SQS: local-aws-sqs in this process (sim/local-sqs.ts), with both queues and their DLQs
 *   (maxReceiveCount 5, as deployed), emptied before each case with `LocalSqs.purge`;
 * - Polygon and xAI: our simulators, in their wire format, with their fault switches.
 *
 * Time is compressed as in `npm start`: the budget window is 2 s and the Polygon simulator's
 * clock runs 30× faster, so its 5-per-minute limit is the same 2 s window. A deferral's SQS delay
 * is recorded as asked, then shortened (60-900 s to 1 s) by a middleware on the functions' own
 * SQS client; a failed message is visible again at once (a compressed visibility timeout), so
 * a message that keeps failing reaches its DLQ after 5 receives, within the case.
 *
 * Everything the handlers print (Powertools logs and EMF metrics) is captured to
 * `.local/faults/logs/<file>.log` and kept per night, for the log and metric checks.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import Big from 'big.js';
import {
  ReceiveMessageCommand,
  type Message,
  type SendMessageBatchCommandInput,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  NumberValue,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { stages, type FunctionName } from '../../../lib/config/stages';
import { analysisKey } from '../../../lambdas/analysis/flows';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import {
  isTradingDay,
  latestCompletedSession,
  previousTradingDay,
  tradingDaysBack,
} from '../../../lambdas/market-data/domain/market-calendar';
import { createTickerDataRepository } from '../../../lambdas/market-data/adapters/ticker-data-repository';
import { completeIndicators, rowFromBar } from '../../../lambdas/market-data/domain/ticker-rows';
import type { PositionItem } from '../../../lambdas/portfolios/records';
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../../../sim/dynamo-fault-proxy';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { localServiceEnv } from '../../../sim/local-env';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import { defaultLocalTableNames } from '../../../sim/local-tables';
import {
  SIMULATOR_API_KEY,
  compressedClock,
  msUntilQuiet,
  startPolygonSimulator,
  syntheticAgg,
  type PolygonSimulator,
  type SimulatedRequest,
} from '../../../sim/polygon-simulator';
import { depth, drainQueue, toSqsEvent } from '../../../sim/queue-poller';
import { startXaiSimulator, type XaiSimulator } from '../../../sim/xai-simulator';
import { buildBundles } from '../../../scripts/lib/bundles';
import { scanAll as scanTable } from '../../../scripts/lib/night-report';
import { lambdaContext } from '../../../scripts/lib/lambda-runtime';
import {
  captureOutput,
  parseLogRecords,
  type LogRecord,
  type OutputCapture,
} from '../../../scripts/lib/output-capture';

export const SCALE = 30;
export const WINDOW_MS = 60_000 / SCALE;
export const STAGE = 'faults';
export const XAI_MODEL = stages.dev.xaiModel;
const repoRoot = path.join(__dirname, '..', '..', '..');

type Handler = (event: unknown, context: Context) => Promise<any>;

/** One position as seeded: the shape the portfolio repository reads (exact decimal strings). */
export type SeedPosition = PositionItem;

export interface SeedPortfolio {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly isActive?: boolean;
}

/** What a case starts from. */
export interface SeedSpec {
  readonly portfolios: readonly SeedPortfolio[];
  readonly positions: readonly Omit<
    SeedPosition,
    'currentPrice' | 'marketValue' | 'unrealizedPL'
  >[];
  /** Tickers with 80 sessions of history through the previous session (one grouped call a night). */
  readonly knownTickers: readonly string[];
}

/** What was seeded, for the checks. */
export interface Seeded {
  readonly session: string;
  readonly previousSession: string;
  readonly portfolios: readonly SeedPortfolio[];
  readonly positions: readonly SeedPosition[];
  /** The previous night's analysis of each active portfolio with positions: its row timestamp. */
  readonly lastGoodAnalysis: ReadonlyMap<string, string>;
}

export const USER_A = 'u-aaaaaaaa-0000-4000-8000-000000000001';
export const USER_B = 'u-bbbbbbbb-0000-4000-8000-000000000002';
export const CORE = 'p-00000000-0000-4000-8000-00000000c0re';
export const GROWTH = 'p-00000000-0000-4000-8000-0000000gr0w';
export const DORMANT = 'p-00000000-0000-4000-8000-0000000d0rm';
export const EMPTY = 'p-00000000-0000-4000-8000-000000000e0e';

/**
 * The standard world: two users, an active portfolio with two lots of one ticker, a portfolio
 * whose `isActive` is missing (active) holding a lower-case symbol, an inactive one and an empty
 * one. Every ticker has history through the previous session.
 */
export function standardSeed(extra: Partial<SeedSpec> = {}): SeedSpec {
  return {
    portfolios: [
      { id: CORE, userId: USER_A, name: 'Core', isActive: true },
      { id: GROWTH, userId: USER_B, name: 'Growth' },
      { id: DORMANT, userId: USER_B, name: 'Dormant', isActive: false },
      { id: EMPTY, userId: USER_A, name: 'Empty', isActive: true },
      ...(extra.portfolios ?? []),
    ],
    positions: [
      {
        id: 'pos-core-aapl',
        portfolioId: CORE,
        ticker: 'AAPL',
        shares: '10',
        costBasis: '1500.00',
      },
      {
        id: 'pos-core-msft',
        portfolioId: CORE,
        ticker: 'MSFT',
        shares: '3.5',
        costBasis: '1100.10',
      },
      { id: 'pos-core-nvda-1', portfolioId: CORE, ticker: 'NVDA', shares: '10', costBasis: '1200' },
      {
        id: 'pos-core-nvda-2',
        portfolioId: CORE,
        ticker: 'NVDA',
        shares: '2.5',
        costBasis: '450.75',
      },
      {
        id: 'pos-growth-meta',
        portfolioId: GROWTH,
        ticker: 'META',
        shares: '4',
        costBasis: '1800',
      },
      { id: 'pos-growth-amzn', portfolioId: GROWTH, ticker: 'amzn', shares: '6', costBasis: '900' },
      {
        id: 'pos-growth-aapl',
        portfolioId: GROWTH,
        ticker: 'AAPL',
        shares: '0.5',
        costBasis: '80',
      },
      {
        id: 'pos-dormant-jpm',
        portfolioId: DORMANT,
        ticker: 'JPM',
        shares: '10',
        costBasis: '1500',
      },
      ...(extra.positions ?? []),
    ],
    // SPY: the track record's benchmark, refreshed every night with the held tickers.
    knownTickers: [
      'AAPL',
      'MSFT',
      'NVDA',
      'META',
      'AMZN',
      'JPM',
      'SPY',
      ...(extra.knownTickers ?? []),
    ],
  };
}

/** The standard world plus one position in each active portfolio of a ticker new to the service. */
export function withNewTickers(core: string, growth: string): SeedSpec {
  return standardSeed({
    positions: [
      {
        id: `pos-core-${core.toLowerCase()}`,
        portfolioId: CORE,
        ticker: core,
        shares: '7',
        costBasis: '70',
      },
      {
        id: `pos-growth-${growth.toLowerCase()}`,
        portfolioId: GROWTH,
        ticker: growth,
        shares: '1.25',
        costBasis: '33.3',
      },
    ],
  });
}

/** What one night (or part of one) did. */
export interface Night {
  readonly session: string;
  readonly fanOut?: any;
  readonly fanOutError?: Error;
  readonly tickerDrain?: { invocations: number; failures: number; leftOver: number };
  readonly analysisFanOut?: any;
  readonly analysisFanOutError?: Error;
  readonly analysisDrain?: { invocations: number; failures: number; leftOver: number };
  readonly polygonRequests: SimulatedRequest[];
  readonly xaiRequests: Record<string, unknown>[];
  /** Deferrals the functions sent: the delay they asked for. */
  readonly deferrals: { delaySeconds: number; tickers: number }[];
  /** Everything the handlers printed. */
  readonly lines: string[];
  readonly records: LogRecord[];
  /** EMF metric sums by name. */
  readonly metrics: Record<string, number>;
}

/** Sums the EMF metric values printed in `lines`, by metric name. */
export function sumMetrics(lines: readonly string[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of lines) {
    if (!line.startsWith('{') || !line.includes('"_aws"')) continue;
    let emf: Record<string, unknown>;
    try {
      emf = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const directives = (emf._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] })
      ?.CloudWatchMetrics;
    for (const d of directives ?? [])
      for (const m of d.Metrics ?? []) {
        const v = emf[m.Name];
        const values = Array.isArray(v) ? v : [v];
        for (const x of values) if (typeof x === 'number') sums[m.Name] = (sums[m.Name] ?? 0) + x;
      }
  }
  return sums;
}

export interface QueuePair {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

export interface NightOptions {
  readonly processTickersEvent?: unknown;
  /** Run the analysis half too. @default true */
  readonly analysis?: boolean;
}

/** A running world; one per test file. */
export interface World {
  readonly dynamo: LocalDynamo;
  readonly proxy: DynamoFaultProxy;
  readonly sqs: LocalSqs;
  readonly polygon: PolygonSimulator;
  readonly xai: XaiSimulator;
  /** Direct to dynalite (no faults); numbers read as exact `NumberValue`s. */
  readonly doc: DynamoDBDocumentClient;
  readonly names: LocalDynamo['names'];
  readonly queues: { readonly tickers: QueuePair; readonly analysis: QueuePair };
  readonly keys: { readonly polygon: string; readonly xai: string };
  readonly handlers: Record<
    | 'processTickers'
    | 'processTicker'
    | 'analyzePortfolios'
    | 'analyzePortfolio'
    | 'evaluateAnalyses',
    Handler
  >;
  /** Makes every message the functions send go out twice (SQS at-least-once delivery). */
  duplicateSends: boolean;
  /** A Lambda context for `fn` with its deployed timeout. */
  context(fn: FunctionName): Context;
  /** Empties tables (budget slots kept), queues and faults, and sets the simulators to normal. */
  reset(): Promise<void>;
  seed(spec?: SeedSpec): Promise<Seeded>;
  /** processTickers -> drain -> analyzePortfolios -> drain, as the schedules run it. */
  night(opts?: NightOptions): Promise<Night>;
  /** The steps of {@link World.night} without the observation (to overlap two runs). */
  nightParts(opts?: NightOptions): Promise<Partial<Night> & { session: string }>;
  /** Starts recording a night's worth of observations; `finish` collects them. */
  observe(): (parts: Partial<Night> & { session: string }) => Night;
  drain(queue: 'tickers' | 'analysis'): Promise<{
    invocations: number;
    failures: number;
    leftOver: number;
  }>;
  /** Messages waiting in a queue (not consumed: they stay for the reset). */
  peek(queueUrl: string): Promise<Message[]>;
  /**
   * Invokes a bundled function in a worker thread that can be killed mid-flight (a Lambda
   * timeout). The context says `remainingMs` are left.
   */
  invokeKillable(
    fn: FunctionName,
    event: unknown,
    remainingMs: number,
  ): Promise<{ done: Promise<unknown>; kill: () => Promise<void>; lines: () => string[] }>;
  close(): Promise<void>;
}

const settings = (fn: FunctionName) => ({
  functionName: `zsmseven-backend-processing-${STAGE}-${fn}`,
  timeoutSeconds: stages.dev.functions[fn].timeoutSeconds,
  memoryMb: stages.dev.functions[fn].memoryMb,
  region: 'us-east-1',
});

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const mod = require(workerData.file);
const deadline = Date.now() + workerData.remainingMs;
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: workerData.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + workerData.functionName,
  memoryLimitInMB: '512',
  awsRequestId: 'killable-' + Date.now(),
  logGroupName: '/aws/lambda/' + workerData.functionName,
  logStreamName: 'killable',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
Promise.resolve(mod.handler(workerData.event, context)).then(
  (result) => parentPort.postMessage({ ok: true, result }),
  (err) => parentPort.postMessage({ ok: false, error: String(err && err.message) }),
);
`;

/**
 * How long emptying the world before a case may take: it waits out the budget window (about
 * 2 s) and clears the tables, which on a loaded 2-core machine took over jest's 5-s default.
 */
export const RESET_TIMEOUT_MS = 30_000;

/**
 * Starts a world for the calling test file (closed after its last test) and empties it before
 * each case; `use` receives it once it is up.
 */
export function useWorld(name: string, use: (world: World) => void): void {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld(name);
    use(world);
  }, 60_000);
  afterAll(() => world?.close());
  beforeEach(() => world!.reset(), RESET_TIMEOUT_MS);
}

/** Starts the world for one test file; `name` names its log file. */
export async function startWorld(name: string): Promise<World> {
  const names = defaultLocalTableNames(STAGE);
  const [dynamo, sqs] = await Promise.all([startLocalDynamo({ names }), startLocalSqs()]);
  const proxy = await startDynamoFaultProxy(dynamo.endpoint);
  const [tickers, analysis] = await Promise.all([
    sqs.createQueue(`ticker-processing-queue-${STAGE}`),
    sqs.createQueue(`portfolio-analysis-queue-${STAGE}`),
  ]);
  const clock = compressedClock(SCALE);
  const polygon = await startPolygonSimulator({
    requestsPerMinute: 5,
    isTradingDay,
    unknownTickers: ['ZZZZ'],
    now: clock.now,
    publishDelayMs: 0,
    pageSize: 100,
  });
  const xaiKey = `xai-fault-suite-${Math.random().toString(36).slice(2)}`;
  const xai = await startXaiSimulator({ apiKey: xaiKey });

  Object.assign(process.env, {
    ...localServiceEnv(dynamo, sqs.endpoint),
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    STAGE,
    POWERTOOLS_SERVICE_NAME: 'backend-processing',
    POWERTOOLS_METRICS_NAMESPACE: 'ZsmSevenBackendProcessingFaults',
    // The most verbose level, so the key checks see every line a handler can print.
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'false',
    SQS_QUEUE_URL: tickers.queueUrl,
    ANALYSIS_QUEUE_URL: analysis.queueUrl,
    POLYGON_BASE_URL: polygon.url,
    POLYGON_API_KEY: SIMULATOR_API_KEY,
    POLYGON_REQUESTS_PER_MINUTE: '5',
    POLYGON_BUDGET_WINDOW_MS: String(WINDOW_MS),
    POLYGON_TIMEOUT_MS: '3000',
    XAI_API_URL: xai.url,
    XAI_API_KEY: xaiKey,
    XAI_MODEL,
    XAI_TIMEOUT_MS: '3000',
    XAI_RETRY_BASE_MS: '100',
    XAI_RETRY_MAX_MS: '500',
  });
  delete process.env.POWERTOOLS_DEV;
  delete process.env.POLYGON_API_KEY_SECRET;
  delete process.env.XAI_API_KEY_SECRET;

  const capture: OutputCapture = captureOutput({
    logFile: path.join(repoRoot, '.local', 'faults', 'logs', `${name}.log`),
  });

  // Imported after the environment is set, as Lambda would load them.
  const { sqsClient } = await import('../../../lambdas/platform/aws-clients');
  const handlers = {
    processTickers: (await import('../../../lambdas/handlers/process-tickers')).handler as Handler,
    processTicker: (await import('../../../lambdas/handlers/process-ticker')).handler as Handler,
    analyzePortfolios: (await import('../../../lambdas/handlers/analyze-portfolios'))
      .handler as Handler,
    analyzePortfolio: (await import('../../../lambdas/handlers/analyze-portfolio'))
      .handler as Handler,
    evaluateAnalyses: (await import('../../../lambdas/handlers/evaluate-analyses'))
      .handler as Handler,
  };

  const deferrals: Night['deferrals'] = [];
  const world: World = {
    dynamo,
    proxy,
    sqs,
    polygon,
    xai,
    doc: DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: true },
    }),
    names,
    queues: { tickers, analysis },
    keys: { polygon: SIMULATOR_API_KEY, xai: xaiKey },
    handlers,
    duplicateSends: false,
    context: (fn) => lambdaContext(settings(fn)),
    async reset() {
      // A case starts with a free budget window, so what it asserts about deferrals cannot
      // depend on how close behind the previous case's requests it runs.
      const wait = msUntilQuiet(polygon, { ...clock, windowMs: WINDOW_MS });
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await reset(world);
    },
    seed: (spec = standardSeed()) => seed(world, spec),
    observe() {
      const from = {
        polygon: polygon.requests.length,
        xai: xai.requests.length,
        deferrals: deferrals.length,
      };
      capture.takeLines();
      return (parts) => {
        const lines = capture.takeLines();
        return {
          ...parts,
          polygonRequests: polygon.requests.slice(from.polygon),
          xaiRequests: xai.requests.slice(from.xai),
          deferrals: deferrals.slice(from.deferrals),
          lines,
          records: parseLogRecords(lines),
          metrics: sumMetrics(lines),
        };
      };
    },
    drain: (queue) =>
      drainQueue({
        client: sqs.client,
        queueUrl: world.queues[queue].queueUrl,
        handler: (event: SQSEvent, context) =>
          (queue === 'tickers' ? handlers.processTicker : handlers.analyzePortfolio)(
            event,
            context,
          ),
        context: () => world.context(queue === 'tickers' ? 'processTicker' : 'analyzePortfolio'),
        batchSize: 1,
        timeoutMs: 90_000,
      }),
    async night(opts = {}) {
      const finish = world.observe();
      return finish(await world.nightParts(opts));
    },
    async nightParts(opts = {}) {
      const session = latestCompletedSession(Date.now());
      const parts: Partial<Night> & { session: string } = { session };
      try {
        Object.assign(parts, {
          fanOut: await handlers.processTickers(
            opts.processTickersEvent ?? {},
            world.context('processTickers'),
          ),
        });
      } catch (err) {
        Object.assign(parts, { fanOutError: err as Error });
      }
      Object.assign(parts, { tickerDrain: await world.drain('tickers') });
      if (opts.analysis !== false) {
        try {
          Object.assign(parts, {
            analysisFanOut: await handlers.analyzePortfolios(
              {},
              world.context('analyzePortfolios'),
            ),
          });
        } catch (err) {
          Object.assign(parts, { analysisFanOutError: err as Error });
        }
        Object.assign(parts, { analysisDrain: await world.drain('analysis') });
      }
      return parts;
    },
    async peek(queueUrl) {
      const seen = new Map<string, Message>();
      for (let empty = 0; empty < 2;) {
        const out = await sqs.client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 30,
            WaitTimeSeconds: 0,
            AttributeNames: ['All'],
          }),
        );
        const got = out.Messages ?? [];
        if (got.length === 0) empty++;
        for (const m of got) seen.set(m.MessageId!, m);
      }
      return [...seen.values()];
    },
    async invokeKillable(fn, event, remainingMs) {
      const [bundle] = await buildBundles([fn], path.join(repoRoot, '.local', 'faults', 'bundles'));
      const output: string[] = [];
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        env: { ...process.env },
        stdout: true,
        stderr: true,
        workerData: {
          file: bundle.file,
          event,
          remainingMs,
          functionName: settings(fn).functionName,
        },
      });
      worker.stdout.on('data', (d: Buffer) => output.push(...d.toString('utf8').split('\n')));
      worker.stderr.on('data', (d: Buffer) => output.push(...d.toString('utf8').split('\n')));
      const done = new Promise<unknown>((resolve, reject) => {
        worker.once('message', (m: { ok: boolean; result?: unknown; error?: string }) =>
          m.ok ? resolve(m.result) : reject(new Error(m.error)),
        );
        worker.once('error', reject);
        worker.once('exit', (code) =>
          reject(new Error(`Task timed out: the worker was killed (exit ${code})`)),
        );
      });
      done.catch(() => undefined);
      return {
        done,
        kill: async () => {
          await worker.terminate();
        },
        lines: () => output.filter((l) => l !== ''),
      };
    },
    async close() {
      capture.restore();
      await proxy.close();
      await polygon.close();
      await xai.close();
      await sqs.close();
      await dynamo.close();
    },
  };

  // The functions' own SQS client (a module singleton shared with the handlers): records each
  // deferral, shortens its delay, and duplicates sends when asked.
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageCommand') {
        const input = args.input as SendMessageCommandInput;
        const body = JSON.parse(input.MessageBody ?? '{}') as { tickers?: unknown[] };
        if ((input.DelaySeconds ?? 0) > 0) {
          deferrals.push({
            delaySeconds: input.DelaySeconds ?? 0,
            tickers: body.tickers?.length ?? 0,
          });
          input.DelaySeconds = input.DelaySeconds! >= 60 ? 1 : Math.min(input.DelaySeconds!, 2);
        }
      }
      if (context.commandName === 'SendMessageBatchCommand') {
        const input = args.input as SendMessageBatchCommandInput;
        for (const e of input.Entries ?? [])
          if ((e.DelaySeconds ?? 0) > 0) e.DelaySeconds = e.DelaySeconds! >= 60 ? 1 : 2;
      }
      if (world.duplicateSends && /^SendMessage(Batch)?Command$/.test(context.commandName ?? '')) {
        await next(args);
      }
      return next(args);
    },
    { step: 'initialize', name: 'faultSuiteSqs' },
  );
  return world;
}

async function clearTable(
  world: World,
  table: string,
  keys: string[],
  keep?: (item: any) => boolean,
) {
  const doomed = (await scanAll(world, table))
    .filter((item) => !keep?.(item))
    .map((item) => Object.fromEntries(keys.map((k) => [k, item[k]])));
  for (let i = 0; i < doomed.length; i += 25) {
    let pending: any[] = doomed.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    while (pending.length > 0) {
      const out = await world.doc.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending } }),
      );
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

async function reset(world: World): Promise<void> {
  world.proxy.clearRules();
  world.polygon.setFault(undefined);
  world.xai.setMode('ok');
  world.duplicateSends = false;
  const n = world.names;
  await Promise.all([
    clearTable(world, n.tickerData, ['ticker', 'timestamp']),
    clearTable(world, n.analyses, ['portfolio', 'timestamp']),
    // Budget slots stay: the simulator remembers its recent requests too.
    clearTable(world, n.state, ['pk'], (item) => String(item.pk).startsWith('budget#')),
    clearTable(world, n.portfolios, ['id']),
    clearTable(world, n.positions, ['id']),
    clearTable(world, n.trackRecord, ['modelPrompt', 'asOf']),
  ]);
  for (const q of [world.queues.tickers, world.queues.analysis]) {
    for (const url of [q.queueUrl, q.dlqUrl]) await world.sqs.purge(url);
    for (const url of [q.queueUrl, q.dlqUrl])
      if ((await depth(world.sqs.client, url)) !== 0) throw new Error(`${url} did not purge`);
  }
}

const closeOf = (ticker: string, session: string) => new Big(syntheticAgg(ticker, session).c);

/** Writes the seed: portfolios, positions priced at the previous close, history, last analyses. */
async function seed(world: World, spec: SeedSpec): Promise<Seeded> {
  const session = latestCompletedSession(Date.now());
  const previousSession = previousTradingDay(session);
  const at = new Date(Date.now() - 86_400_000).toISOString();
  const n = world.names;
  const put = (TableName: string, Item: Record<string, unknown>) =>
    world.doc.send(new PutCommand({ TableName, Item }));

  const known = new Set(spec.knownTickers);
  const positions: SeedPosition[] = spec.positions.map((p) => {
    const t = p.ticker.trim().toUpperCase();
    if (!known.has(t)) return p;
    const price = closeOf(t, previousSession);
    const mv = new Big(p.shares).times(price);
    return {
      ...p,
      currentPrice: price.toFixed(),
      marketValue: mv.toFixed(),
      unrealizedPL: mv.minus(new Big(p.costBasis)).toFixed(),
    };
  });
  await Promise.all([
    ...spec.portfolios.map((p) =>
      put(n.portfolios, {
        id: p.id,
        userId: p.userId,
        name: p.name,
        isActive: p.isActive,
        createdAt: at,
        updatedAt: at,
      }),
    ),
    ...positions.map((p) =>
      put(n.positions, {
        id: p.id,
        portfolioId: p.portfolioId,
        ticker: p.ticker,
        shares: NumberValue.from(p.shares),
        costBasis: NumberValue.from(p.costBasis),
        ...(p.currentPrice
          ? {
              currentPrice: NumberValue.from(p.currentPrice),
              marketValue: NumberValue.from(p.marketValue!),
              unrealizedPL: NumberValue.from(p.unrealizedPL!),
            }
          : {}),
        createdAt: at,
        updatedAt: at,
      }),
    ),
  ]);

  // History through the previous session, from the simulator's own bars.
  const rows = [...known].flatMap((ticker) =>
    completeIndicators(
      tradingDaysBack(previousSession, 80).map((s) => {
        const a = syntheticAgg(ticker, s);
        return rowFromBar(
          ticker,
          { ticker, session: s, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v },
          'polygon-range',
          at,
        );
      }),
    ),
  );
  const plain = DynamoDBDocumentClient.from(world.dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await createTickerDataRepository({ client: plain, tableName: n.tickerData }).putRows(rows);

  // The previous night's analysis of every active portfolio with positions, and its claim.
  const lastGoodAnalysis = new Map<string, string>();
  for (const p of spec.portfolios) {
    if (p.isActive === false) continue;
    const held = positions.filter((x) => x.portfolioId === p.id);
    if (held.length === 0 || !held.every((x) => known.has(x.ticker.trim().toUpperCase()))) continue;
    const timestamp = `${previousSession}T23:00:00.000Z`;
    lastGoodAnalysis.set(p.id, timestamp);
    await put(n.analyses, {
      portfolio: p.id,
      timestamp,
      portfolioName: p.name,
      model: XAI_MODEL,
      requestedModel: XAI_MODEL,
      promptVersion: PROMPT_VERSION,
      dataAsOf: previousSession,
      analysis: '{"scores":[]}',
      parsed_data: JSON.stringify(
        held.map((x) => ({ ticker: x.ticker.trim().toUpperCase(), score: 1, reason: 'seeded' })),
      ),
      missingTickers: [],
    });
    await put(n.state, {
      pk: analysisKey({
        portfolioId: p.id,
        model: XAI_MODEL,
        promptVersion: PROMPT_VERSION,
        dataAsOf: previousSession,
      }),
      kind: 'analysis-claim',
      status: 'done',
      owner: 'seed',
      portfolioId: p.id,
      analysisTimestamp: timestamp,
      completedAt: timestamp,
      expiresAt: Math.ceil(Date.now() / 1000) + 30 * 86_400,
    });
  }
  return { session, previousSession, portfolios: spec.portfolios, positions, lastGoodAnalysis };
}

/** Every item of a table (numbers as exact `NumberValue`s). */
export const scanAll = (world: World, table: string): Promise<Record<string, any>[]> =>
  scanTable(world.doc, table);

/** Every ticker-data row of a ticker, oldest first. */
export async function rowsOf(world: World, ticker: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await world.doc.send(
      new QueryCommand({
        TableName: world.names.tickerData,
        KeyConditionExpression: 'ticker = :t',
        ExpressionAttributeValues: { ':t': ticker },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The portfolio name an xAI request is about (the prompt's `Portfolio: "<name>"` line). */
export function xaiPortfolioName(body: Record<string, unknown>): string | undefined {
  const messages = (body.messages ?? []) as { role?: string; content?: string }[];
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const match = /^Portfolio: (".*")$/m.exec(user);
  return match ? (JSON.parse(match[1]) as string) : undefined;
}

/** Invokes a function directly (as `aws lambda invoke` would), capturing a thrown error. */
export async function invokeDirect(
  world: World,
  fn: keyof World['handlers'],
  event: unknown,
): Promise<{ result?: any; error?: Error }> {
  try {
    return { result: await world.handlers[fn](event, world.context(fn)) };
  } catch (err) {
    return { error: err as Error };
  }
}

export { toSqsEvent };
