import { RemovalPolicy, type Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { STATE_PREFIX, type StatePurpose } from '../../lambdas/platform/state-keys';
import type { StageConfig } from '../config/stages';
import {
  functionConstructId,
  functionPhysicalName,
  functionSpec,
  type DynamoAction,
  type EnvKey,
  type FunctionGrants,
  type FunctionName,
} from '../functions';
import type { OwnedTables } from './owned-tables';
import { grantSecretRead } from './secret-grant';
import type { SharedTables } from './shared-tables';
import type { WorkQueue } from './work-queue';
import { WorkerFunction } from './worker-function';

/** Powertools service name (a metric dimension and a log key). */
export const SERVICE_NAME = 'backend-processing';
/** CloudWatch namespace of the handlers' EMF metrics. */
export const METRICS_NAMESPACE = 'ZsmSevenBackendProcessing';

/** What every pipeline builds on: the stack (the scope of every resource) and the tables. */
export interface ServiceBase {
  /**
   * The scope of every function, queue and rule: the stack itself, so that their logical IDs
   * are those of the deployed stack (a construct scope in between would rename, and so replace,
   * them).
   */
  readonly scope: Stack;
  readonly config: StageConfig;
  readonly removalPolicy: RemovalPolicy;
  readonly tables: OwnedTables;
  readonly shared: SharedTables;
}

/** The work queues a function may be given (its URL in the environment, a send grant). */
export interface ServiceQueues {
  readonly tickerQueue?: WorkQueue;
  readonly analysisQueue?: WorkQueue;
}

/** Every variable a function may read, in the order the environment lists them. */
const ENV_ORDER: readonly EnvKey[] = [
  'TICKER_DATA_TABLE',
  'ANALYSES_TABLE',
  'STATE_TABLE',
  'PORTFOLIOS_TABLE',
  'POSITIONS_TABLE',
  'SQS_QUEUE_URL',
  'ANALYSIS_QUEUE_URL',
  'POLYGON_BASE_URL',
  'POLYGON_REQUESTS_PER_MINUTE',
  'POLYGON_BUDGET_TABLE',
  'POLYGON_API_KEY_SECRET',
  'XAI_API_URL',
  'XAI_MODEL',
  'XAI_MAX_USD_PER_NIGHT',
  'XAI_API_KEY_SECRET',
  'XAI_REQUESTS_PER_MINUTE',
  'XAI_TOKENS_PER_MINUTE',
  'XAI_TOKENS_PER_ANALYSIS',
  'XAI_SECONDS_PER_ANALYSIS',
  'ANALYSIS_DEADLINE_UTC',
  'ANALYSIS_MAX_CONCURRENCY',
  'TRACK_RECORD_TABLE',
  'BENCHMARK_TICKER',
  'TRACK_RECORD_HORIZON',
];

/** The value of each environment key in this stack (a queue URL only when that queue exists). */
function envValues(base: ServiceBase, queues: ServiceQueues): Partial<Record<EnvKey, string>> {
  const { config, tables, shared } = base;
  return {
    TICKER_DATA_TABLE: tables.tickerData.tableName,
    ANALYSES_TABLE: tables.analyses.tableName,
    STATE_TABLE: tables.state.tableName,
    PORTFOLIOS_TABLE: shared.portfolios.tableName,
    POSITIONS_TABLE: shared.positions.tableName,
    SQS_QUEUE_URL: queues.tickerQueue?.queue.queueUrl,
    ANALYSIS_QUEUE_URL: queues.analysisQueue?.queue.queueUrl,
    POLYGON_BASE_URL: config.polygonBaseUrl,
    POLYGON_REQUESTS_PER_MINUTE: String(config.polygonRequestsPerMinute),
    POLYGON_BUDGET_TABLE: config.polygonBudgetTable ?? tables.state.tableName,
    POLYGON_API_KEY_SECRET: config.secrets.polygonApiKey.name,
    XAI_API_URL: config.xaiApiUrl,
    XAI_MODEL: config.xaiModel,
    XAI_MAX_USD_PER_NIGHT: String(config.xaiMaxUsdPerNight),
    XAI_API_KEY_SECRET: config.secrets.xaiApiKey.name,
    XAI_REQUESTS_PER_MINUTE: String(config.analysisPacing.requestsPerMinute),
    XAI_TOKENS_PER_MINUTE: String(config.analysisPacing.tokensPerMinute),
    XAI_TOKENS_PER_ANALYSIS: String(config.analysisPacing.tokensPerAnalysis),
    XAI_SECONDS_PER_ANALYSIS: String(config.analysisPacing.secondsPerAnalysis),
    ANALYSIS_DEADLINE_UTC: config.analysisPacing.deadlineUtc,
    ANALYSIS_MAX_CONCURRENCY: String(config.analysisPacing.maxConcurrency),
    TRACK_RECORD_TABLE: tables.trackRecord.tableName,
    BENCHMARK_TICKER: config.benchmarkTicker,
    TRACK_RECORD_HORIZON: String(config.trackRecordHorizon),
  };
}

/**
 * A function's environment: what every function gets (STAGE, Powertools) plus exactly the
 * variables its registry entry lists (SYSTEM.md's names, the same as a local run).
 */
export function functionEnvironment(
  base: ServiceBase,
  fn: FunctionName,
  queues: ServiceQueues = {},
): Record<string, string> {
  const values = envValues(base, queues);
  const wanted = new Set(functionSpec(fn).environment);
  const environment: Record<string, string> = {
    STAGE: base.config.stage,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: base.config.logLevel,
  };
  // ANALYSIS_EVENT_SOURCE_MAPPING_ID is not in ENV_ORDER: the mapping exists only once the
  // consumer does, and QueuePipeline adds it then (last in the environment).
  for (const key of ENV_ORDER.filter((k) => wanted.has(k))) {
    const value = values[key];
    if (value === undefined) throw new Error(`${fn} needs ${key} but its queue was not given`);
    environment[key] = value;
  }
  return environment;
}

const dynamoActions = (actions: readonly DynamoAction[]) => actions.map((a) => `dynamodb:${a}`);

/** Exactly `actions` on the table itself. */
const grantTable = (
  table: dynamodb.ITable,
  actions: readonly DynamoAction[] | undefined,
  grantee: iam.IGrantable,
) => {
  if (actions?.length) table.grant(grantee, ...dynamoActions(actions));
};

/** `actions` on the items of `tableArn` whose partition key starts with one of `prefixes`. */
const grantItems = (
  grantee: iam.IGrantable,
  tableArn: string,
  actions: readonly DynamoAction[],
  prefixes: readonly string[],
) =>
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: dynamoActions(actions),
      resources: [tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) },
      },
    }),
  );

/** Per purpose of the state table, its actions on the items under the purpose's prefix. */
const grantState = (base: ServiceBase, g: FunctionGrants, grantee: iam.IGrantable) => {
  for (const [purpose, actions] of Object.entries(g.state ?? {}) as [
    StatePurpose,
    readonly DynamoAction[],
  ][])
    grantItems(grantee, base.tables.state.tableArn, actions, [STATE_PREFIX[purpose]]);
};

/** The Polygon budget items: the stage's account-level budget table, or its state table. */
const grantPolygonBudget = (base: ServiceBase, grantee: iam.IGrantable) => {
  const shared = base.config.polygonBudgetTable;
  const arn = shared
    ? base.scope.formatArn({ service: 'dynamodb', resource: 'table', resourceName: shared })
    : base.tables.state.tableArn;
  grantItems(grantee, arn, ['GetItem', 'UpdateItem'], [`${STATE_PREFIX.budget}polygon#`]);
};

const queueOf = (fn: FunctionName, queue: WorkQueue | undefined, name: string) => {
  if (!queue) throw new Error(`${fn} may send to the ${name} but it was not given`);
  return queue.queue;
};

/**
 * Applies a function's registry grants with the CDK grant methods, in one fixed order (the
 * order the IAM policy lists them in): shared tables, owned tables, queues, secrets.
 */
export function applyGrants(
  base: ServiceBase,
  fn: FunctionName,
  grantee: iam.IGrantable,
  queues: ServiceQueues = {},
): void {
  const g: FunctionGrants = functionSpec(fn).grants;
  const { config, tables, shared, scope } = base;
  if (g.sharedRead) shared.grantRead(grantee);
  if (g.positions === 'priceUpdate') shared.grantPositionPriceUpdate(grantee);
  grantTable(tables.tickerData, g.tickerData, grantee);
  grantTable(tables.analyses, g.analyses, grantee);
  grantState(base, g, grantee);
  if (g.polygonBudget) grantPolygonBudget(base, grantee);
  grantTable(tables.trackRecord, g.trackRecord, grantee);
  if (g.tickerQueue === 'send')
    queueOf(fn, queues.tickerQueue, 'ticker queue').grantSendMessages(grantee);
  if (g.analysisQueue === 'send')
    queueOf(fn, queues.analysisQueue, 'analysis queue').grantSendMessages(grantee);
  // One import per secret in the stack: only one function reads each key.
  if (g.polygonSecret)
    grantSecretRead(scope, 'PolygonApiKeySecret', config.secrets.polygonApiKey, grantee);
  if (g.xaiSecret) grantSecretRead(scope, 'XaiApiKeySecret', config.secrets.xaiApiKey, grantee);
}

/** Creates a registry function in the stack's scope, with its environment and grants applied. */
export function createServiceFunction(
  base: ServiceBase,
  fn: FunctionName,
  queues: ServiceQueues = {},
): WorkerFunction {
  const spec = functionSpec(fn);
  const f = new WorkerFunction(base.scope, functionConstructId(fn), {
    functionName: functionPhysicalName(base.config.stage, fn),
    entryFile: spec.entryFile,
    description: spec.description,
    settings: base.config.functions[fn],
    environment: functionEnvironment(base, fn, queues),
    logRetentionDays: base.config.logRetentionDays,
    logRemovalPolicy: base.removalPolicy,
  });
  applyGrants(base, fn, f, queues);
  return f;
}

/** The removal policy of the stateful resources the stack creates, from the stage config. */
export const removalPolicyOf = (config: StageConfig) =>
  config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
