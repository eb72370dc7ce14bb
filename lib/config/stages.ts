/**
 * Per-stage configuration as typed data. Adding a stage is one entry in `stages` (and its name in
 * `StageName`); nothing else in the code branches on the stage name.
 */

/** The stages this app can synthesize. */
export type StageName = 'dev' | 'prod';

import type { FunctionName } from '../functions';
import type { PacingLimits } from '../../lambdas/analysis/throughput';

/** The functions of the service (the four of SYSTEM.md plus the freshness check): lib/functions.ts. */
export type { FunctionName } from '../functions';

/** UTC cron fields of an EventBridge rule (`cron(minute hour day month weekDay year)`). */
export interface CronFields {
  readonly minute: string;
  readonly hour: string;
  readonly weekDay: string;
}

export interface ScheduleConfig {
  /** Whether the rule is ENABLED. A disabled rule stays in the template with `State: DISABLED`. */
  readonly enabled: boolean;
  readonly cron: CronFields;
}

export interface FunctionConfig {
  /** @default none; memory in MB (also scales CPU on Lambda). */
  readonly memoryMb: number;
  /** Function timeout in seconds. */
  readonly timeoutSeconds: number;
}

export interface QueueConsumerConfig {
  /** Records per invocation of the consumer. */
  readonly batchSize: number;
  /** Event-source maximum concurrency (2 is the lowest Lambda allows). */
  readonly maxConcurrency: number;
  /** Receives before a message moves to the DLQ (≥ 5 so transient failures do not dead-letter). */
  readonly maxReceiveCount: number;
  /**
   * Days the queue keeps a message (its DLQ keeps 14, which must be longer: lib/constructs/work-queue.ts).
   * A message lives at most 900 s of delay + maxReceiveCount × the visibility timeout (5 × 90 min
   * for processTicker: 7.5 h; each deferral is a new message); 4 days also keeps a night's work
   * through a consumer outage over a long weekend, after which the next nightly run queues afresh.
   */
  readonly retentionDays: number;
  /** Alarm when the oldest message is older than this many seconds. */
  readonly maxMessageAgeSeconds: number;
}

/** Where a deployed function reads an API key at run time (never the key itself). */
export interface SecretRef {
  readonly store: 'secretsmanager';
  /** Secrets Manager secret name (SSM parameters are not supported: see lib/constructs/secret-grant.ts). */
  readonly name: string;
}

/** A table owned by portfolio-api that this service imports by name. */
export interface SharedTableConfig {
  readonly tableName: string;
  readonly indexNames: readonly string[];
}

export interface StageConfig {
  readonly stage: StageName;
  /**
   * Target account and region. `account` undefined means "the account of the credentials in
   * use" (CDK_DEFAULT_ACCOUNT, resolved in bin/app.ts only).
   */
  readonly env: { readonly account?: string; readonly region: string };
  readonly schedules: {
    readonly tickerRefresh: ScheduleConfig;
    readonly analysis: ScheduleConfig;
    /** When the data-freshness check runs (its deadline for the night's refresh). */
    readonly freshnessCheck: ScheduleConfig;
    /**
     * When `evaluateAnalyses` runs: after the freshness deadline, several times a night, each run
     * continuing the work the previous one left (it is idempotent and bounded per invocation).
     */
    readonly trackRecord: ScheduleConfig;
  };
  readonly functions: Readonly<Record<FunctionName, FunctionConfig>>;
  readonly tickerQueue: QueueConsumerConfig;
  readonly analysisQueue: QueueConsumerConfig;
  /**
   * `create`: this stack creates `ticker-data-{stage}` and `portfolio-analyses-{stage}` (or adopts
   * existing ones through `cdk import`, see README). `reference`: the tables exist outside this
   * stack and are only referenced by name (the stack never changes or deletes them).
   */
  readonly ownedTables: 'create' | 'reference';
  /** Removal policy of stateful resources this stack creates. */
  readonly removalPolicy: 'retain' | 'destroy';
  /** Retention of every function's log group, in days. */
  readonly logRetentionDays: 7 | 14 | 30 | 60 | 90 | 180 | 365;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Alarm notifications are e-mailed here when set. */
  readonly alarmEmail?: string;
  readonly sharedTables: {
    readonly portfolios: SharedTableConfig;
    readonly positions: SharedTableConfig;
  };
  readonly secrets: {
    readonly polygonApiKey: SecretRef;
    readonly xaiApiKey: SecretRef;
  };
  /** Polygon request budget of the stage's key, per rolling 60 s (free plan: 5). */
  readonly polygonRequestsPerMinute: number;
  /**
   * The name of an account-level table holding the Polygon request budget (partition key `pk`
   * (S), TTL attribute `expiresAt`), created once per account outside the stacks
   * (docs/BOOTSTRAP.md). Every stage of the account that uses the same Polygon key must name the
   * same table: the budget item is per key (`budget#polygon#<hash of the key>`), so those stages
   * then share one budget. Unset: the budget lives in the stage's state table, and the stage's
   * key must be used by no other stage (the default layout: one account and one key per stage).
   */
  readonly polygonBudgetTable?: string;
  /** Polygon base URL (`https://api.polygon.io`). */
  readonly polygonBaseUrl: string;
  /** xAI chat-completions URL. */
  readonly xaiApiUrl: string;
  /** The Grok model id (config, not code: xAI retires model ids). */
  readonly xaiModel: string;
  /**
   * The night's xAI spending cap, USD (`XAI_MAX_USD_PER_NIGHT` of analyzePortfolio): once the
   * night's billed cost reaches it, queued portfolios are not sent (lambdas/analysis/spend-cap.ts,
   * README "Operate" for the overshoot bound and how to raise it).
   */
  readonly xaiMaxUsdPerNight: number;
  /**
   * How the analysis night is paced (issue 17): xAI's limits of the stage's team (requests and
   * tokens per minute), the measured seconds and tokens per analysis, the deadline (`HH:MM` UTC)
   * and the most concurrent analyses the stage may use (its share of the account's Lambda
   * concurrency). analyzePortfolios derives the consumer's maximum concurrency from these and
   * the night's portfolios (lambdas/analysis/throughput.ts); `analysisQueue.maxConcurrency` is
   * only what a deploy starts from.
   */
  readonly analysisPacing: Omit<PacingLimits, 'limitHeadroom' | 'planningFactor'>;
  /**
   * The CDK bootstrap qualifier of the stage (`cdk bootstrap --qualifier`; ≤ 10 lower-case
   * letters and digits). Each stage has its own, so that where dev and prod share an account
   * each deploys through its own bootstrap roles and narrowed execution policy
   * (docs/BOOTSTRAP.md, docs/cfn-execution-policy.json).
   */
  readonly bootstrapQualifier: string;
  /** The score track record's benchmark, refreshed every night like a held ticker. @default SPY */
  readonly benchmarkTicker: string;
  /** Sessions after `dataAsOf` an analysis is evaluated on (h). @default 5 */
  readonly trackRecordHorizon: number;
}

const region = 'us-east-1';

/** The nightly crons of SYSTEM.md (UTC): 04:30 Tue-Sat is 23:30/00:30 New York after Mon-Fri closes. */
const tickerRefreshCron: CronFields = { minute: '30', hour: '4', weekDay: 'TUE-SAT' };
/** 06:00 UTC leaves 90 minutes for the refresh (and its deferrals) to finish first. */
const analysisCron: CronFields = { minute: '0', hour: '6', weekDay: 'TUE-SAT' };
/** 09:15 UTC: the refresh (04:30) and its deferrals have had hours; minute 15 avoids the top of the hour. */
const freshnessCron: CronFields = { minute: '15', hour: '9', weekDay: 'TUE-SAT' };
/** 09:30, 10:30 and 11:30 UTC: after the freshness deadline; later runs continue a cut-off one. */
const trackRecordCron: CronFields = { minute: '30', hour: '9-11', weekDay: 'TUE-SAT' };

const functions: Record<FunctionName, FunctionConfig> = {
  processTickers: { memoryMb: 512, timeoutSeconds: 120 },
  // One invocation applies a whole session's bars to thousands of tickers: allow the maximum.
  processTicker: { memoryMb: 1024, timeoutSeconds: 900 },
  analyzePortfolios: { memoryMb: 512, timeoutSeconds: 120 },
  // The xAI call times out well below this (see XAI timeout in the handler config).
  analyzePortfolio: { memoryMb: 512, timeoutSeconds: 180 },
  checkFreshness: { memoryMb: 256, timeoutSeconds: 30 },
  // Reads up to 10,000 analyses of the window and their tickers' closes; stops itself well before.
  evaluateAnalyses: { memoryMb: 1024, timeoutSeconds: 600 },
};

const sharedTables = (stage: StageName) => ({
  portfolios: {
    tableName: `user-portfolios-${stage}`,
    indexNames: ['UserIdIndex', 'UserNameIndex'],
  },
  positions: {
    tableName: `portfolio-positions-${stage}`,
    indexNames: ['PortfolioIdIndex', 'PortfolioTickerIndex'],
  },
});

const secrets = (stage: StageName) =>
  ({
    polygonApiKey: {
      store: 'secretsmanager',
      name: `zsmseven/backend-processing/${stage}/polygon-api-key`,
    },
    xaiApiKey: {
      store: 'secretsmanager',
      name: `zsmseven/backend-processing/${stage}/xai-api-key`,
    },
  }) as const;

// Batch size 1: a ticker message is a whole refresh job. Concurrency 2 is Lambda's minimum; the
// Polygon budget is enforced by the shared request budget, not by concurrency.
const consumer: QueueConsumerConfig = {
  batchSize: 1,
  maxConcurrency: 2,
  maxReceiveCount: 5,
  retentionDays: 4,
  maxMessageAgeSeconds: 3600,
};

/**
 * xAI's published team-tier limits (1,800 requests, 10M tokens a minute); about 15 s and 8,000
 * tokens per analysis of a 20-holding portfolio (grok-4.3, reasoning); the US open. 100
 * concurrent analyses leave 900 of the default 1,000 account concurrency to everything else and
 * carry 400 analyses a minute: 100,000 portfolios in about 4 h 10 min.
 */
const analysisPacing = {
  requestsPerMinute: 1_800,
  tokensPerMinute: 10_000_000,
  tokensPerAnalysis: 8_000,
  secondsPerAnalysis: 15,
  deadlineUtc: '13:30',
  maxConcurrency: 100,
} as const;

/** What every stage shares; each entry below states only how it differs. */
const defaults = (stage: StageName) =>
  ({
    stage,
    env: { region },
    functions,
    tickerQueue: consumer,
    analysisQueue: consumer,
    sharedTables: sharedTables(stage),
    secrets: secrets(stage),
    polygonRequestsPerMinute: 5,
    polygonBaseUrl: 'https://api.polygon.io',
    xaiApiUrl: 'https://api.x.ai/v1/chat/completions',
    xaiModel: 'grok-4.3',
    // About 100 analyses at ~$0.01 each: dev runs a handful of test portfolios.
    xaiMaxUsdPerNight: 2,
    analysisPacing,
    bootstrapQualifier: `zsm${stage}`,
    benchmarkTicker: 'SPY',
    trackRecordHorizon: 5,
  }) as const;

export const stages: Readonly<Record<StageName, StageConfig>> = {
  dev: {
    ...defaults('dev'),
    // Dev runs on demand; switch on to rehearse the nightly schedule.
    schedules: {
      tickerRefresh: { enabled: false, cron: tickerRefreshCron },
      analysis: { enabled: false, cron: analysisCron },
      freshnessCheck: { enabled: false, cron: freshnessCron },
      trackRecord: { enabled: false, cron: trackRecordCron },
    },
    // Dev nights are rehearsals with a handful of portfolios: a small share of the account.
    analysisPacing: { ...analysisPacing, maxConcurrency: 10 },
    ownedTables: 'create',
    removalPolicy: 'destroy',
    logRetentionDays: 14,
    logLevel: 'DEBUG',
  },
  prod: {
    ...defaults('prod'),
    schedules: {
      tickerRefresh: { enabled: true, cron: tickerRefreshCron },
      analysis: { enabled: true, cron: analysisCron },
      freshnessCheck: { enabled: true, cron: freshnessCron },
      trackRecord: { enabled: true, cron: trackRecordCron },
    },
    // Where a night starts before analyzePortfolios sets the concurrency derived from its work
    // (analysisPacing): 5 concurrent Grok calls of ~15 s analyse 1,000 portfolios in under an hour.
    analysisQueue: { ...consumer, maxConcurrency: 5 },
    // 2.5 × a 1,000-portfolio night at ~$0.01 an analysis: room to grow, a ceiling for a loop.
    xaiMaxUsdPerNight: 25,
    // ticker-data-prod and portfolio-analyses-prod already exist (created outside this stack).
    ownedTables: 'reference',
    removalPolicy: 'retain',
    logRetentionDays: 90,
    logLevel: 'INFO',
  },
};

/** The names of every configured stage, for messages. */
export const stageNames = Object.keys(stages) as StageName[];

/** Looks a stage up by name; an unknown or missing name fails with the list of valid stages. */
export function getStageConfig(name: string | undefined): StageConfig {
  const key = name ?? 'dev';
  if (!Object.prototype.hasOwnProperty.call(stages, key)) {
    throw new Error(
      `Unknown stage "${key}". Valid stages: ${stageNames.join(', ')}. ` +
        'Pass one with --context stage=<name>, or add an entry to lib/config/stages.ts.',
    );
  }
  return stages[key as StageName];
}
