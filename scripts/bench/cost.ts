/**
 * A monthly AWS cost estimate from measured usage × list prices. The usage comes from the
 * bench's own counts (Lambda invocations and billed time, DynamoDB consumed capacity, SQS
 * requests); what the bench does not run (the analysis night) is modelled and labelled so.
 * Pure functions: the bench feeds them, `test/scripts/cost.test.ts` pins the arithmetic.
 */

/** When the prices below were read, and where. */
export const PRICES_AS_OF =
  '2026-12-02 (AWS public price pages for us-east-1 as last checked; on-demand, no commitments)';

/** List prices, us-east-1, USD. */
export const PRICES = {
  /** Lambda on arm64, per GB-second of billed duration (first tier). */
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** DynamoDB on-demand (prices since November 2024). */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoStorageGbMonth: 0.25,
  /** Continuous backups (point-in-time recovery), per GB-month of table size. */
  dynamoPitrGbMonth: 0.2,
  /** SQS standard queue, per request (each 64 KiB chunk of a payload is one request). */
  sqsRequest: 0.4 / 1e6,
  /**
   * CloudWatch custom metric, per metric-month, prorated by the hour: a metric is billed only for
   * the hours in which it receives data points.
   */
  cloudwatchMetricMonth: 0.3,
  cloudwatchAlarmMonth: 0.1,
  cloudwatchDashboardMonth: 3,
  cloudwatchLogsIngestGb: 0.5,
  cloudwatchLogsStorageGbMonth: 0.03,
  secretMonth: 0.4,
  secretsApiCall: 0.05 / 10_000,
} as const;

/** AWS's always-free allowances per account and month (they are shared with everything else). */
export const FREE_TIER = {
  lambdaGbSeconds: 400_000,
  lambdaRequests: 1_000_000,
  dynamoStorageGb: 25,
  sqsRequests: 1_000_000,
  cloudwatchMetrics: 10,
  cloudwatchAlarms: 10,
  cloudwatchDashboards: 3,
  cloudwatchLogsGb: 5,
} as const;

const HOURS_PER_MONTH = 730;

export interface LambdaUsage {
  readonly fn: string;
  readonly memoryMb: number;
  readonly invocationsPerNight: number;
  /** Billed duration summed over the night's invocations, ms. */
  readonly billedMsPerNight: number;
  /** Measured by the bench, or modelled (labelled in the report). */
  readonly source: 'measured' | 'modelled';
}

export interface MonthlyUsage {
  readonly label: string;
  /** Nights the schedules run in a month (TUE-SAT: about 21.7). */
  readonly nightsPerMonth: number;
  readonly lambda: readonly LambdaUsage[];
  readonly dynamo: {
    readonly readUnitsPerNight: number;
    readonly writeUnitsPerNight: number;
    /** Size of the owned tables, GB (PITR is on for them). */
    readonly storageGb: number;
  };
  readonly sqsRequestsPerNight: number;
  readonly cloudwatch: {
    /** Distinct metric streams (name × dimensions) the functions emit. */
    readonly metrics: number;
    /** Hours a night in which the metrics receive data. */
    readonly metricHoursPerNight: number;
    readonly alarms: number;
    readonly dashboards: number;
    readonly logGbPerNight: number;
    /** Days the log groups keep their events. */
    readonly logRetentionDays: number;
  };
  readonly secrets: { readonly count: number; readonly callsPerNight: number };
}

export interface CostLine {
  readonly service: string;
  readonly detail: string;
  readonly listUsd: number;
  /** The same after the always-free allowances, if this stage were alone in its account. */
  readonly afterFreeTierUsd: number;
}

const afterFree = (units: number, free: number, price: number) => Math.max(0, units - free) * price;

function lambdaLines(u: MonthlyUsage): CostLine[] {
  const n = u.nightsPerMonth;
  const gbSeconds = u.lambda.reduce(
    (sum, f) => sum + (f.memoryMb / 1024) * (f.billedMsPerNight / 1000) * n,
    0,
  );
  const requests = u.lambda.reduce((sum, f) => sum + f.invocationsPerNight * n, 0);
  const modelled = u.lambda.filter((f) => f.source === 'modelled').map((f) => f.fn);
  const note = modelled.length ? `; modelled: ${modelled.join(', ')}` : '';
  return [
    {
      service: 'Lambda compute (arm64)',
      detail: `${round(gbSeconds)} GB-s a month${note}`,
      listUsd: gbSeconds * PRICES.lambdaArmGbSecond,
      afterFreeTierUsd: afterFree(gbSeconds, FREE_TIER.lambdaGbSeconds, PRICES.lambdaArmGbSecond),
    },
    {
      service: 'Lambda requests',
      detail: `${round(requests)} invocations a month`,
      listUsd: requests * PRICES.lambdaRequest,
      afterFreeTierUsd: afterFree(requests, FREE_TIER.lambdaRequests, PRICES.lambdaRequest),
    },
  ];
}

function dynamoLines(u: MonthlyUsage): CostLine[] {
  const n = u.nightsPerMonth;
  const requests =
    u.dynamo.readUnitsPerNight * n * PRICES.dynamoReadUnit +
    u.dynamo.writeUnitsPerNight * n * PRICES.dynamoWriteUnit;
  const gb = u.dynamo.storageGb;
  return [
    {
      service: 'DynamoDB requests (on-demand)',
      detail: `${round(u.dynamo.readUnitsPerNight * n)} read units, ${round(u.dynamo.writeUnitsPerNight * n)} write units a month`,
      listUsd: requests,
      afterFreeTierUsd: requests,
    },
    {
      service: 'DynamoDB storage and PITR',
      detail: `${gb.toFixed(3)} GB in the owned tables`,
      listUsd: gb * (PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth),
      afterFreeTierUsd:
        afterFree(gb, FREE_TIER.dynamoStorageGb, PRICES.dynamoStorageGbMonth) +
        gb * PRICES.dynamoPitrGbMonth,
    },
  ];
}

function cloudwatchLines(u: MonthlyUsage): CostLine[] {
  const cw = u.cloudwatch;
  const metricMonths = (cw.metrics * cw.metricHoursPerNight * u.nightsPerMonth) / HOURS_PER_MONTH;
  const logGb = cw.logGbPerNight * u.nightsPerMonth;
  // What the log groups hold at any time: the nights inside the retention period.
  const storedGb = cw.logGbPerNight * (u.nightsPerMonth / 30.4) * cw.logRetentionDays;
  return [
    {
      service: 'CloudWatch custom metrics (EMF)',
      detail: `${cw.metrics} metric streams, ~${cw.metricHoursPerNight} h a night (billed by the hour)`,
      listUsd: metricMonths * PRICES.cloudwatchMetricMonth,
      afterFreeTierUsd:
        Math.max(0, metricMonths - FREE_TIER.cloudwatchMetrics) * PRICES.cloudwatchMetricMonth,
    },
    {
      service: 'CloudWatch alarms',
      detail: `${cw.alarms} standard alarms`,
      listUsd: cw.alarms * PRICES.cloudwatchAlarmMonth,
      afterFreeTierUsd: afterFree(
        cw.alarms,
        FREE_TIER.cloudwatchAlarms,
        PRICES.cloudwatchAlarmMonth,
      ),
    },
    {
      service: 'CloudWatch dashboard',
      detail: `${cw.dashboards} dashboard`,
      listUsd: cw.dashboards * PRICES.cloudwatchDashboardMonth,
      afterFreeTierUsd: afterFree(
        cw.dashboards,
        FREE_TIER.cloudwatchDashboards,
        PRICES.cloudwatchDashboardMonth,
      ),
    },
    {
      service: 'CloudWatch Logs',
      detail: `${round(logGb * 1024)} MB ingested a month, ${cw.logRetentionDays}-day retention`,
      listUsd:
        logGb * PRICES.cloudwatchLogsIngestGb + storedGb * PRICES.cloudwatchLogsStorageGbMonth,
      afterFreeTierUsd:
        afterFree(logGb, FREE_TIER.cloudwatchLogsGb, PRICES.cloudwatchLogsIngestGb) +
        storedGb * PRICES.cloudwatchLogsStorageGbMonth,
    },
  ];
}

function otherLines(u: MonthlyUsage): CostLine[] {
  const sqs = u.sqsRequestsPerNight * u.nightsPerMonth;
  const secretCalls = u.secrets.callsPerNight * u.nightsPerMonth;
  const secrets = u.secrets.count * PRICES.secretMonth + secretCalls * PRICES.secretsApiCall;
  return [
    {
      service: 'SQS requests',
      detail: `${round(sqs)} requests a month (sends, receives, deletes)`,
      listUsd: sqs * PRICES.sqsRequest,
      afterFreeTierUsd: afterFree(sqs, FREE_TIER.sqsRequests, PRICES.sqsRequest),
    },
    {
      service: 'Secrets Manager',
      detail: `${u.secrets.count} secrets, ${round(secretCalls)} reads a month`,
      listUsd: secrets,
      afterFreeTierUsd: secrets,
    },
    {
      service: 'EventBridge scheduled rules',
      detail: 'the nightly schedules (scheduled rules are free)',
      listUsd: 0,
      afterFreeTierUsd: 0,
    },
  ];
}

/** Every line of the estimate, in the order the report prints them. */
export function estimateMonthlyCost(u: MonthlyUsage): CostLine[] {
  return [...lambdaLines(u), ...dynamoLines(u), ...cloudwatchLines(u), ...otherLines(u)];
}

/** The LLM's part, kept apart: tokens a month × the model's list price. */
export interface LlmUsage {
  readonly model: string;
  readonly analysesPerNight: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** USD per 1M tokens. */
  readonly price: { readonly input: number; readonly output: number };
}

export function llmMonthly(u: LlmUsage, nightsPerMonth: number) {
  const analyses = u.analysesPerNight * nightsPerMonth;
  const tokens = analyses * (u.promptTokens + u.completionTokens);
  const usd =
    (analyses * (u.promptTokens * u.price.input + u.completionTokens * u.price.output)) / 1e6;
  return { analyses, tokens, usd };
}

export const totalOf = (lines: readonly CostLine[], key: 'listUsd' | 'afterFreeTierUsd') =>
  lines.reduce((sum, l) => sum + l[key], 0);

function round(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
