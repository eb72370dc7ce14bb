import type { StatePurpose } from '../lambdas/platform/state-keys';

/**
 * The ONE list of the service's functions: for each, its entry file, description, the events it
 * accepts (as an operator types them), the environment variables it reads and the grants it
 * needs, as plain data. The stack applies it (lib/stacks/service-stack.ts and the pipeline
 * constructs), the scripts list and validate functions from it, and the tests assert on it.
 * Adding a function is one entry here, plus its handler and its place in a pipeline
 * (lib/constructs/*-pipeline.ts, freshness-check.ts).
 */

/** An environment variable the stack can resolve for a function (see `ServiceStack`). */
export type EnvKey =
  | 'TICKER_DATA_TABLE'
  | 'ANALYSES_TABLE'
  | 'STATE_TABLE'
  | 'PORTFOLIOS_TABLE'
  | 'POSITIONS_TABLE'
  | 'SQS_QUEUE_URL'
  | 'ANALYSIS_QUEUE_URL'
  | 'POLYGON_BASE_URL'
  | 'POLYGON_REQUESTS_PER_MINUTE'
  | 'POLYGON_BUDGET_TABLE'
  | 'POLYGON_API_KEY_SECRET'
  | 'XAI_API_URL'
  | 'XAI_MODEL'
  | 'XAI_MAX_USD_PER_NIGHT'
  | 'XAI_API_KEY_SECRET'
  | 'XAI_REQUESTS_PER_MINUTE'
  | 'XAI_TOKENS_PER_MINUTE'
  | 'XAI_TOKENS_PER_ANALYSIS'
  | 'XAI_SECONDS_PER_ANALYSIS'
  | 'ANALYSIS_DEADLINE_UTC'
  | 'ANALYSIS_MAX_CONCURRENCY'
  | 'ANALYSIS_EVENT_SOURCE_MAPPING_ID'
  | 'TRACK_RECORD_TABLE'
  | 'BENCHMARK_TICKER'
  | 'TRACK_RECORD_HORIZON';

/** A DynamoDB data-plane action a function's code calls (`dynamodb:<action>`). */
export type DynamoAction =
  'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';

/**
 * What a function may do, applied by `applyGrants` (lib/constructs/service-functions.ts):
 * - owned tables (`tickerData`, `analyses`, `trackRecord`): exactly these actions on the table
 *   (no index, no DescribeTable: the code calls nothing else; lib-dynamodb's paginators send
 *   Query, its batch helpers BatchGetItem / BatchWriteItem);
 * - `state`: per purpose, these actions on the state table's items whose `pk` starts with the
 *   purpose's prefix (`dynamodb:LeadingKeys`, STATE_PREFIX in lambdas/platform/state-keys.ts,
 *   the module that builds every key);
 * - `polygonBudget`: GetItem and UpdateItem of `budget#polygon#*` in the budget table (the
 *   stage's `polygonBudgetTable`, or else the state table);
 * - `sharedRead` = read portfolios and positions (and their indexes);
 *   `positions: 'priceUpdate'`: UpdateItem of the positions' price attributes only;
 * - queues: `send` = `grantSendMessages`; secrets: read exactly that API-key secret;
 * - `consumerScaling`: UpdateEventSourceMapping of its pipeline's consumer mapping only.
 * test/infra/grants.test.ts pins the result for both stages.
 */
export interface FunctionGrants {
  readonly sharedRead?: true;
  readonly positions?: 'priceUpdate';
  readonly tickerData?: readonly DynamoAction[];
  readonly analyses?: readonly DynamoAction[];
  /** `analysis-track-record-{stage}`: the nightly aggregate items. */
  readonly trackRecord?: readonly DynamoAction[];
  readonly state?: Readonly<Partial<Record<StatePurpose, readonly DynamoAction[]>>>;
  readonly polygonBudget?: true;
  readonly tickerQueue?: 'send';
  readonly analysisQueue?: 'send';
  readonly polygonSecret?: true;
  readonly xaiSecret?: true;
  /**
   * `lambda:UpdateEventSourceMapping` on its pipeline's consumer mapping only (the producer sets
   * the consumer's maximum concurrency for the night: lambdas/analysis/throughput.ts); applied
   * by lib/constructs/queue-pipeline.ts, which creates the mapping.
   */
  readonly consumerScaling?: true;
}

export interface FunctionSpec {
  /** Entry file under `lambdas/handlers/`, exporting `handler`. */
  readonly entryFile: string;
  readonly description: string;
  /** The event shapes it accepts, as an operator would type them (help and error messages). */
  readonly events: readonly string[];
  /**
   * The variables its code reads, besides STAGE, POWERTOOLS_* and NODE_OPTIONS (every function
   * gets those). Checked against the code by test/infra/function-registry.test.ts.
   */
  readonly environment: readonly EnvKey[];
  readonly grants: FunctionGrants;
}

/** What processTickers reads (lambdas/market-data/config.ts, processTickersConfig). */
const FAN_OUT_ENV = [
  'PORTFOLIOS_TABLE',
  'POSITIONS_TABLE',
  'SQS_QUEUE_URL',
] as const satisfies readonly EnvKey[];

export const FUNCTIONS = {
  processTickers: {
    entryFile: 'process-tickers.ts',
    description:
      'Collects the tickers of active portfolios and queues the nightly market-data refresh',
    events: [
      '{}  (the nightly run)',
      '{"tickers": ["NVDA", "AAPL"]}',
      'an EventBridge scheduled event',
    ],
    environment: [...FAN_OUT_ENV, 'BENCHMARK_TICKER'],
    grants: { sharedRead: true, tickerQueue: 'send' },
  },
  processTicker: {
    entryFile: 'process-ticker.ts',
    description:
      'Refreshes market data from Polygon within the request budget and reprices positions',
    events: ['{"ticker": "NVDA"}', 'an SQS event from ticker-processing-queue'],
    environment: [
      ...FAN_OUT_ENV,
      'TICKER_DATA_TABLE',
      'STATE_TABLE',
      'POLYGON_BASE_URL',
      'POLYGON_REQUESTS_PER_MINUTE',
      'POLYGON_BUDGET_TABLE',
      'POLYGON_API_KEY_SECRET',
    ],
    // History: Query (latest rows), BatchGetItem (the steady night's previous rows) and
    // BatchWriteItem (rows, re-based rows included); state: parked bars (Put, then Get), the
    // finishing cursor (Get, conditional Update), the no-data memo (batch get and put), the
    // refresh marker (a conditional Update); the budget item (conditional Update, a Get after a
    // refusal).
    grants: {
      sharedRead: true,
      positions: 'priceUpdate',
      tickerData: ['Query', 'BatchGetItem', 'BatchWriteItem'],
      state: {
        parked: ['GetItem', 'PutItem'],
        finish: ['GetItem', 'UpdateItem'],
        noData: ['BatchGetItem', 'BatchWriteItem'],
        refresh: ['UpdateItem'],
      },
      polygonBudget: true,
      tickerQueue: 'send',
      polygonSecret: true,
    },
  },
  analyzePortfolios: {
    entryFile: 'analyze-portfolios.ts',
    description: 'Queues one Grok analysis per active portfolio',
    events: ['{}  (the nightly run)', 'an EventBridge scheduled event'],
    environment: [
      'PORTFOLIOS_TABLE',
      'POSITIONS_TABLE',
      'ANALYSIS_QUEUE_URL',
      'XAI_REQUESTS_PER_MINUTE',
      'XAI_TOKENS_PER_MINUTE',
      'XAI_TOKENS_PER_ANALYSIS',
      'XAI_SECONDS_PER_ANALYSIS',
      'ANALYSIS_DEADLINE_UTC',
      'ANALYSIS_MAX_CONCURRENCY',
      'ANALYSIS_EVENT_SOURCE_MAPPING_ID',
    ],
    // It derives the consumer's concurrency from the night's work and sets it on the mapping.
    grants: { sharedRead: true, analysisQueue: 'send', consumerScaling: true },
  },
  analyzePortfolio: {
    entryFile: 'analyze-portfolio.ts',
    description: 'Analyses one portfolio with Grok and stores the scores',
    events: [
      '{"portfolio_id": "<uuid>"}',
      '{"portfolio_name": "ZSM Seven"}',
      '(either with "force": true to re-run)',
      'an SQS event from portfolio-analysis-queue',
    ],
    environment: [
      'ANALYSES_TABLE',
      'TICKER_DATA_TABLE',
      'STATE_TABLE',
      'PORTFOLIOS_TABLE',
      'POSITIONS_TABLE',
      'ANALYSIS_QUEUE_URL',
      'XAI_API_URL',
      'XAI_MODEL',
      'XAI_MAX_USD_PER_NIGHT',
      'XAI_API_KEY_SECRET',
    ],
    // Latest ticker rows (Query); analyses: a conditional Put, Get and Query of the newest;
    // state: its claims (Put, Get, Update, Delete), the paid-guard marks (Get, Update) and the
    // night's spend (a conditional Update to admit a call, an Update to add its cost, a Get).
    grants: {
      sharedRead: true,
      tickerData: ['Query'],
      analyses: ['GetItem', 'PutItem', 'Query'],
      state: {
        analysisClaim: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
        xaiHalt: ['GetItem', 'UpdateItem'],
        paidDefect: ['GetItem', 'UpdateItem'],
        spend: ['GetItem', 'UpdateItem'],
      },
      xaiSecret: true,
      // An xAI 429 it cannot wait out re-queues the record with a delay (rate-limit-deferral.ts).
      analysisQueue: 'send',
    },
  },
  checkFreshness: {
    entryFile: 'check-freshness.ts',
    description:
      'Publishes StaleData = 1 when the latest session was not refreshed by the deadline',
    events: ['{}', 'an EventBridge scheduled event (the event is not read)'],
    environment: ['STATE_TABLE'],
    // It reads one item: the refresh marker.
    grants: { state: { refresh: ['GetItem'] } },
  },
  evaluateAnalyses: {
    entryFile: 'evaluate-analyses.ts',
    description:
      'Evaluates analyses whose horizon has passed and stores the track record per model and prompt',
    events: ['{}  (the nightly run)', 'an EventBridge scheduled event'],
    environment: [
      'ANALYSES_TABLE',
      'TICKER_DATA_TABLE',
      'STATE_TABLE',
      'PORTFOLIOS_TABLE',
      'POSITIONS_TABLE',
      'TRACK_RECORD_TABLE',
      'BENCHMARK_TICKER',
      'TRACK_RECORD_HORIZON',
    ],
    // Lists portfolios, queries their analyses and the tickers' closes, writes `evaluation`
    // (UpdateItem) and the aggregate (PutItem), reads the refresh marker: nothing else.
    grants: {
      sharedRead: true,
      tickerData: ['Query'],
      analyses: ['Query', 'UpdateItem'],
      state: { refresh: ['GetItem'] },
      trackRecord: ['PutItem'],
    },
  },
} as const satisfies Record<string, FunctionSpec>;

/** The functions of the service, by the name operators type. */
export type FunctionName = keyof typeof FUNCTIONS;

/** Every function, in registry order (also the order the nightly job runs them). */
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** A function's registry entry, typed as the general spec. */
export const functionSpec = (fn: FunctionName): FunctionSpec => FUNCTIONS[fn];

/** Function name operators type: `zsmseven-backend-processing-api-{stage}-{function}`. */
export const functionPhysicalName = (stage: string, fn: FunctionName) =>
  `zsmseven-backend-processing-api-${stage}-${fn}`;

/** Construct ID of a function in the stack (`processTickers` → `ProcessTickersFunction`). */
export const functionConstructId = (fn: FunctionName) =>
  `${fn[0].toUpperCase()}${fn.slice(1)}Function`;
