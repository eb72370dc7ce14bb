import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { stages } from '../../lib/config/stages';
import { functionPhysicalName, type FunctionName } from '../../lib/functions';
import { isTradingDay } from '../../lambdas/market-data/domain/market-calendar';
import type { LocalDynamo } from '../../sim/local-dynamo';
import { startLocalSqs, type LocalSqs } from '../../sim/local-sqs';
import { depth } from '../../sim/queue-poller';
import { defaultLocalTableNames, type LocalTableNames } from '../../sim/local-tables';
import {
  SIMULATOR_API_KEY,
  compressedClock,
  startPolygonSimulator,
  type PolygonSimulator,
} from '../../sim/polygon-simulator';
import { startXaiSimulator, type XaiSimulator } from '../../sim/xai-simulator';
import { buildBundles, bundlesFromCdkOut, loadHandler, type FunctionBundle } from './bundles';
import type { Cleanup } from './cleanup';
import { startLocalDynamo } from '../../sim/local-dynamo';
import { invokeLikeLambda, type FunctionSettings, type LambdaHandler } from './lambda-runtime';
import { applySeed, loadSeed, seedTickers, type Seed, type SeedResult } from './seed';
import { localServiceEnv } from '../../sim/local-env';

/** The stage name of everything a local run creates (tables, queues, function names). */
export const LOCAL_STAGE = 'local';

/** How much faster than real time the simulated Polygon's clock and the request budget run. */
export const TIME_SCALE = 30;

/** The stage whose settings (timeouts, memory, batch sizes, model, budget) a local run uses. */
const base = stages.dev;

/** Where one upstream API is: the local simulator or the real service. */
export interface Upstream {
  readonly mode: 'simulated' | 'real';
  readonly url: string;
}

/** The upstreams of a run: simulated unless the key of the real service is in the environment. */
export interface Upstreams {
  readonly polygon: Upstream;
  readonly xai: Upstream;
}

/** Options of {@link startLocalServices}. */
export interface LocalServicesOptions {
  /** The functions whose bundles are built (or located) and loaded. */
  readonly functions: readonly FunctionName[];
  readonly seedFile: string;
  /** Persist the DynamoDB data here; in memory when absent. */
  readonly dataDir?: string;
  /** Take the bundles from this synthesized cloud assembly instead of building them. */
  readonly cdkOut?: string;
  /** Powertools log level of the handlers. */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Everything started is registered here, as soon as it is up. */
  readonly cleanup: Cleanup;
  /** The caller's environment: its POLYGON_API_KEY / XAI_API_KEY select the real upstreams. */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines while starting. */
  readonly onProgress?: (line: string) => void;
}

/** The embedded services with the bundled handlers loaded against them. */
export interface LocalServices {
  readonly upstreams: Upstreams;
  /** 1 when Polygon is real (its rate limit is real time), else {@link TIME_SCALE}. */
  readonly timeScale: number;
  readonly names: LocalTableNames;
  readonly dynamo: LocalDynamo;
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: LocalSqs;
  readonly queues: {
    readonly tickers: { readonly name: string; readonly queueUrl: string; readonly dlqUrl: string };
    readonly analysis: {
      readonly name: string;
      readonly queueUrl: string;
      readonly dlqUrl: string;
    };
  };
  readonly polygonSimulator?: PolygonSimulator;
  readonly xaiSimulator?: XaiSimulator;
  readonly seed: SeedResult;
  readonly bundles: readonly FunctionBundle[];
  readonly tablesFromCache: boolean;
  /** Batch size of each queue's event source, from the stage config. */
  readonly batchSizes: { readonly tickers: number; readonly analysis: number };
  /** Lambda settings (name, timeout, memory) of a function. */
  settings(fn: FunctionName): FunctionSettings;
  /** The loaded handler of a function. */
  handler(fn: FunctionName): LambdaHandler;
  /** Invokes a function the way Lambda does (JSON in and out, context, timeout). */
  invoke(fn: FunctionName, event: unknown): Promise<unknown>;
}

/** Which upstreams a run uses, from the environment. */
export function chooseUpstreams(env: NodeJS.ProcessEnv): Upstreams {
  return {
    polygon: env.POLYGON_API_KEY
      ? { mode: 'real', url: env.POLYGON_BASE_URL || base.polygonBaseUrl }
      : { mode: 'simulated', url: '' },
    xai: env.XAI_API_KEY
      ? { mode: 'real', url: env.XAI_API_URL || base.xaiApiUrl }
      : { mode: 'simulated', url: '' },
  };
}

/** The banner that says loudly which upstreams are simulated. */
export function upstreamBanner(upstreams: Upstreams, timeScale: number): string[] {
  const line = (name: string, u: Upstream, keyVar: string, what: string) =>
    u.mode === 'simulated'
      ? `  ${name.padEnd(8)} SIMULATED - local simulator at ${u.url}, ${what}; set ${keyVar} for the real service`
      : `  ${name.padEnd(8)} REAL - ${u.url} (${keyVar} is set; calls count against your account)`;
  const rule = '='.repeat(100);
  const lines = [
    rule,
    line('Polygon', upstreams.polygon, 'POLYGON_API_KEY', 'synthetic prices, NOT market data'),
    line('xAI', upstreams.xai, 'XAI_API_KEY', 'rule-based scores, NOT Grok'),
    `  xAI cap  $${process.env.XAI_MAX_USD_PER_NIGHT || base.xaiMaxUsdPerNight} per night (XAI_MAX_USD_PER_NIGHT; the dev stage's xaiMaxUsdPerNight)`,
  ];
  if (upstreams.polygon.mode === 'simulated') {
    lines.push(
      `  Time     compressed ${timeScale}x: the Polygon budget window is ${60 / timeScale} s instead of 60 s (the simulator's clock runs ${timeScale}x); SQS delays are honoured as sent`,
    );
  }
  lines.push(rule);
  return lines;
}

/** What {@link localEnvironment} builds the local environment contract from. */
export interface LocalEnvironmentInputs {
  readonly logLevel: LocalServicesOptions['logLevel'];
  /** The table names and endpoints of the embedded DynamoDB (`localServiceEnv`). */
  readonly local: Record<string, string | undefined>;
  readonly sqsEndpoint: string;
  readonly queueUrls: { readonly tickers: string; readonly analysis: string };
  readonly upstreams: Upstreams;
  readonly polygonSimulated: boolean;
  /** The xAI key the handlers send (the simulator's, or XAI_API_KEY). */
  readonly xaiKey: string | undefined;
  readonly timeScale: number;
  /** The caller's environment (real keys, overrides). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The environment of a local run (`undefined` = unset): every variable any function reads per
 * lib/functions.ts, plus the local-only ones (plain API keys instead of `…_SECRET` names, the
 * compressed budget window, endpoints). One set for all functions, unlike the deployed stack's
 * per-function environment: the handlers run in this one process and share `process.env`.
 */
export function localEnvironment(i: LocalEnvironmentInputs): Record<string, string | undefined> {
  const { env, upstreams } = i;
  const rpm = String(base.polygonRequestsPerMinute);
  return {
    STAGE: LOCAL_STAGE,
    POWERTOOLS_SERVICE_NAME: 'backend-processing',
    POWERTOOLS_METRICS_NAMESPACE: 'ZsmSevenBackendProcessingLocal',
    POWERTOOLS_LOG_LEVEL: i.logLevel,
    POWERTOOLS_DEV: undefined,
    // The SDK's notice about this machine's Node.js, not the functions' runtime (nodejs24.x).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...i.local,
    AWS_REGION: base.env.region,
    AWS_DEFAULT_REGION: base.env.region,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL: i.sqsEndpoint,
    SQS_QUEUE_URL: i.queueUrls.tickers,
    ANALYSIS_QUEUE_URL: i.queueUrls.analysis,
    POLYGON_BASE_URL: upstreams.polygon.url,
    POLYGON_API_KEY: i.polygonSimulated ? SIMULATOR_API_KEY : env.POLYGON_API_KEY,
    POLYGON_API_KEY_SECRET: undefined,
    POLYGON_REQUESTS_PER_MINUTE: i.polygonSimulated ? rpm : env.POLYGON_REQUESTS_PER_MINUTE || rpm,
    POLYGON_BUDGET_WINDOW_MS: i.polygonSimulated ? String(60_000 / i.timeScale) : undefined,
    // The embedded state table: a local run's budget is its own (README "One Polygon budget per key").
    POLYGON_BUDGET_TABLE: i.local.STATE_TABLE,
    XAI_API_URL: upstreams.xai.url,
    XAI_API_KEY: i.xaiKey,
    XAI_API_KEY_SECRET: undefined,
    XAI_MODEL: env.XAI_MODEL || base.xaiModel,
    // The dev stage's night spending cap, as deployed (lambdas/analysis/spend-cap.ts).
    XAI_MAX_USD_PER_NIGHT: env.XAI_MAX_USD_PER_NIGHT || String(base.xaiMaxUsdPerNight),
    // The night's pacing (issue 17). No event source mapping locally: ANALYSIS_EVENT_SOURCE_MAPPING_ID
    // stays unset and analyzePortfolios only logs the concurrency it derived.
    XAI_REQUESTS_PER_MINUTE: String(base.analysisPacing.requestsPerMinute),
    XAI_TOKENS_PER_MINUTE: String(base.analysisPacing.tokensPerMinute),
    XAI_TOKENS_PER_ANALYSIS: String(base.analysisPacing.tokensPerAnalysis),
    XAI_SECONDS_PER_ANALYSIS: String(base.analysisPacing.secondsPerAnalysis),
    ANALYSIS_DEADLINE_UTC: base.analysisPacing.deadlineUtc,
    ANALYSIS_MAX_CONCURRENCY: String(base.analysisPacing.maxConcurrency),
    ANALYSIS_EVENT_SOURCE_MAPPING_ID: undefined,
    BENCHMARK_TICKER: base.benchmarkTicker,
    TRACK_RECORD_HORIZON: String(base.trackRecordHorizon),
  };
}

/** Bundles (built or from cdk.out), the local SQS with both queues, dynalite with the CDK tables. */
async function startStores(opts: LocalServicesOptions, names: LocalTableNames) {
  const settled = await Promise.allSettled([
    opts.cdkOut
      ? Promise.resolve(bundlesFromCdkOut(opts.cdkOut, opts.functions))
      : buildBundles(opts.functions),
    startLocalSqs().then((sqs) => {
      opts.cleanup.add('local SQS', () => sqs.close());
      return sqs;
    }),
  ]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [bundles, sqs] = settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
    FunctionBundle[],
    LocalSqs,
  ];
  const dynamo = await startLocalDynamo({ names, dataDir: opts.dataDir });
  opts.onProgress?.(
    `bundles of ${bundles.map((b) => b.fn).join(', ')} ${opts.cdkOut ? `from ${opts.cdkOut}` : bundles.some((b) => b.rebuilt) ? 'built with esbuild' : 'unchanged since their last esbuild build'}; ` +
      `table definitions ${dynamo.tablesCached ? 'cached from' : 'synthesized from'} the CDK stack`,
  );
  opts.cleanup.add('dynalite (DynamoDB)', () => dynamo.close());
  const tickerQueueName = `ticker-processing-queue-${LOCAL_STAGE}`;
  const analysisQueueName = `portfolio-analysis-queue-${LOCAL_STAGE}`;
  const [tickerQueue, analysisQueue] = await Promise.all([
    sqs.createQueue(tickerQueueName),
    sqs.createQueue(analysisQueueName),
  ]);
  const queues = {
    tickers: { name: tickerQueueName, ...tickerQueue },
    analysis: { name: analysisQueueName, ...analysisQueue },
  };
  return { bundles, sqs, dynamo, queues };
}

/** The Polygon and xAI simulators for the upstreams without a real key, and where each upstream is. */
async function startSimulators(
  opts: LocalServicesOptions,
  seed: Seed,
  chosen: Upstreams,
  timeScale: number,
) {
  let polygonSimulator: PolygonSimulator | undefined;
  let xaiSimulator: XaiSimulator | undefined;
  if (chosen.polygon.mode === 'simulated') {
    const clock = compressedClock(timeScale);
    const unknown = new Set(seed.simulator.unknownTickers.map((t) => t.trim().toUpperCase()));
    polygonSimulator = await startPolygonSimulator({
      requestsPerMinute: base.polygonRequestsPerMinute,
      isTradingDay,
      now: clock.now,
      publishDelayMs: 0,
      // The seed's tickers and the track record's benchmark (BENCHMARK_TICKER's default).
      tickers: [...seedTickers(seed).filter((t) => !unknown.has(t)), 'SPY'],
      unknownTickers: [...unknown],
    });
    const sim = polygonSimulator;
    opts.cleanup.add('Polygon simulator', () => sim.close());
  }
  const xaiKey = `xai-simulator-${randomBytes(12).toString('hex')}`;
  if (chosen.xai.mode === 'simulated') {
    // Scores lean a little towards the simulator's own 5-session returns, so the local score
    // track record measures something (README "Score track record").
    xaiSimulator = await startXaiSimulator({ apiKey: xaiKey, signalSessions: 5 });
    const sim = xaiSimulator;
    opts.cleanup.add('xAI simulator', () => sim.close());
  }
  const upstreams: Upstreams = {
    polygon: polygonSimulator ? { mode: 'simulated', url: polygonSimulator.url } : chosen.polygon,
    xai: xaiSimulator ? { mode: 'simulated', url: xaiSimulator.url } : chosen.xai,
  };
  return { polygonSimulator, xaiSimulator, xaiKey, upstreams };
}

/** Loads each bundle's handler; a function's Lambda settings come from the dev stage config. */
function loadHandlers(bundles: readonly FunctionBundle[]) {
  const handlers = new Map<FunctionName, LambdaHandler>(bundles.map((b) => [b.fn, loadHandler(b)]));
  const settings = (fn: FunctionName): FunctionSettings => ({
    functionName: functionPhysicalName(LOCAL_STAGE, fn),
    timeoutSeconds: base.functions[fn].timeoutSeconds,
    memoryMb: base.functions[fn].memoryMb,
    region: base.env.region,
  });
  const handler = (fn: FunctionName): LambdaHandler => {
    const h = handlers.get(fn);
    if (!h) throw new Error(`The ${fn} bundle was not loaded`);
    return h;
  };
  return { settings, handler };
}

/**
 * Starts everything a local run needs, registering each part with `cleanup` as soon as it is up:
 * the bundles (built with esbuild, or from cdk.out), dynalite with the CDK tables, the local SQS
 * (local-aws-sqs, in process) with both queues and their DLQs, the Polygon and xAI simulators
 * unless real keys are set; then sets the environment contract, seeds the sample data and loads
 * the handlers.
 */
export async function startLocalServices(opts: LocalServicesOptions): Promise<LocalServices> {
  const env = opts.env ?? process.env;
  const seed = loadSeed(opts.seedFile);
  const chosen = chooseUpstreams(env);
  const timeScale = chosen.polygon.mode === 'simulated' ? TIME_SCALE : 1;
  const names = defaultLocalTableNames(LOCAL_STAGE);
  const { bundles, sqs, dynamo, queues } = await startStores(opts, names);
  const sims = await startSimulators(opts, seed, chosen, timeScale);

  const contract = localEnvironment({
    logLevel: opts.logLevel,
    local: localServiceEnv(dynamo, sqs.endpoint),
    sqsEndpoint: sqs.endpoint,
    queueUrls: { tickers: queues.tickers.queueUrl, analysis: queues.analysis.queueUrl },
    upstreams: sims.upstreams,
    polygonSimulated: sims.polygonSimulator !== undefined,
    xaiKey: sims.xaiSimulator ? sims.xaiKey : env.XAI_API_KEY,
    timeScale,
    env,
  });
  for (const [key, value] of Object.entries(contract)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }

  const doc = DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const tables = { portfolios: names.portfolios, positions: names.positions };
  const seeded = await applySeed(doc, tables, seed, opts.seedFile);
  const { settings, handler } = loadHandlers(bundles);
  return {
    upstreams: sims.upstreams,
    timeScale,
    names,
    dynamo,
    doc,
    sqs,
    queues,
    polygonSimulator: sims.polygonSimulator,
    xaiSimulator: sims.xaiSimulator,
    seed: seeded,
    bundles,
    tablesFromCache: dynamo.tablesCached,
    batchSizes: { tickers: base.tickerQueue.batchSize, analysis: base.analysisQueue.batchSize },
    settings,
    handler,
    invoke: (fn, event) => invokeLikeLambda(handler(fn), event, settings(fn)),
  };
}

/** Messages waiting in each local queue and in its DLQ, now. */
export async function queueDepths(services: Pick<LocalServices, 'sqs' | 'queues'>) {
  const { sqs, queues } = services;
  const [tw, td, aw, ad] = await Promise.all([
    depth(sqs.client, queues.tickers.queueUrl),
    depth(sqs.client, queues.tickers.dlqUrl),
    depth(sqs.client, queues.analysis.queueUrl),
    depth(sqs.client, queues.analysis.dlqUrl),
  ]);
  return {
    tickers: { waiting: tw, deadLetters: td },
    analysis: { waiting: aw, deadLetters: ad },
  };
}
