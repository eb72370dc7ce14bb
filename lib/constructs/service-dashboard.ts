import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { MetricName } from '../../lambdas/platform/metrics';
import type { WorkQueue } from './work-queue';

export interface DashboardQueue {
  /** Short title, e.g. "Ticker processing". */
  readonly title: string;
  readonly workQueue: WorkQueue;
  /** Alarm when the oldest message is older than this. */
  readonly maxMessageAge: Duration;
}

export interface ServiceDashboardProps {
  readonly dashboardName: string;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly queues: readonly DashboardQueue[];
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  readonly alarmTopic: sns.ITopic;
  /** Prefix of alarm names, e.g. `backend-processing-dev`. */
  readonly alarmPrefix: string;
  /** Where the handlers' Powertools EMF metrics land: namespace and the dimensions they carry. */
  readonly businessMetrics: {
    readonly namespace: string;
    /** Powertools adds `service`; our default dimension is `stage`. */
    readonly dimensions: Readonly<Record<string, string>>;
  };
  /** The stage's xAI spending cap per night, USD (`xaiMaxUsdPerNight`): its alarm and widget. */
  readonly xaiMaxUsdPerNight: number;
}

/** A business metric alarm: at the first occurrence (≥ 1), with what to do. */
export interface BusinessAlarm {
  readonly metric: MetricName;
  /** The alarm's name after the stage prefix (and its construct ID). @default the metric */
  readonly name?: string;
  readonly description: string;
  /** @default 'Sum' over 5 minutes */
  readonly statistic?: string;
  readonly period?: Duration;
}

/**
 * Business metrics that mean "work was lost or cannot proceed" and page at the first occurrence,
 * with what to do (the README "Operate" section has the full runbook).
 */
export const FAILURE_ALARMS: readonly BusinessAlarm[] = [
  {
    metric: 'RefreshFailures',
    description:
      'A market-data refresh job failed (it will be retried, then dead-lettered). See processTicker logs.',
  },
  {
    metric: 'PolygonAuthErrors',
    description: 'Polygon rejected the API key (401). Rotate the Polygon secret.',
  },
  {
    metric: 'AnalysisFailures',
    description: 'A portfolio analysis failed; ERROR log lines name the portfolio id.',
  },
  { metric: 'XaiAuthErrors', description: 'xAI rejected the API key. Rotate the xAI secret.' },
  {
    metric: 'XaiCreditsExhausted',
    description:
      'xAI credits or spending limit exhausted: top up the xAI team, then redrive the analysis DLQ.',
  },
  {
    metric: 'MalformedMessages',
    description:
      'A queue message could not be parsed and was dropped; the log names its messageId.',
  },
];

/** Every business alarm: the failures above and the freshness check's StaleData. */
export const BUSINESS_ALARMS: readonly BusinessAlarm[] = [
  ...FAILURE_ALARMS,
  {
    metric: 'StaleData',
    description:
      'The latest trading session was not refreshed by the freshness deadline (holidays never page). ' +
      'Check processTicker logs and the ticker DLQ; run processTickers by hand once fixed.',
    statistic: 'Maximum',
    period: Duration.hours(1),
  },
  {
    // The first portfolio of a night not sent because of the spending cap (spend-cap.ts).
    metric: 'AnalysesSkippedBudget',
    name: 'SpendCapReached',
    description:
      "The night's xAI spend reached its cap (xaiMaxUsdPerNight): the night's remaining portfolios are not " +
      'analysed (their last analysis stays; the next night starts afresh). README "Operate", the spending cap.',
    period: Duration.hours(1),
  },
];

/** The spending-cap row: the night's spend (Sum per UTC day) against the cap, and the skips. */
export const SPEND_CAP_WIDGET = {
  left: { metric: 'XaiCostUsd', label: 'spend USD (UTC day)' },
  right: { metric: 'AnalysesSkippedBudget', label: 'portfolios skipped for budget' },
} as const satisfies Record<'left' | 'right', BusinessSeries>;

/** One line of a business-metric graph: `Sum` per hour unless stated. */
export interface BusinessSeries {
  readonly metric: MetricName;
  readonly label?: string;
  readonly period?: Duration;
}

export interface BusinessWidget {
  readonly title: string;
  readonly left: readonly BusinessSeries[];
  readonly right?: readonly BusinessSeries[];
  readonly width: number;
}

const day = Duration.days(1);

/** The business-metric graphs of the dashboard, in their order on it (one row). */
export const BUSINESS_WIDGETS: readonly BusinessWidget[] = [
  {
    title: 'Market data: tickers found vs refreshed (per hour)',
    left: [
      { metric: 'TickersFound', label: 'found in portfolios' },
      { metric: 'TickersRefreshed', label: 'refreshed' },
      { metric: 'TickersAlreadyFresh', label: 'already fresh' },
      { metric: 'TickersWithoutData', label: 'no data at Polygon' },
      { metric: 'InvalidTickers', label: 'invalid symbols' },
      { metric: 'SplitsApplied', label: 'splits applied (history re-based)' },
    ],
    width: 12,
  },
  {
    title: 'Polygon: HTTP requests, 429s and deferrals (per hour)',
    left: [
      { metric: 'PolygonHttpRequests', label: 'requests' },
      { metric: 'Polygon429s', label: '429 rate limited' },
      { metric: 'Deferrals', label: 'jobs deferred (budget, 429, unpublished)' },
    ],
    width: 12,
  },
  {
    title: 'Positions repriced vs skipped (deleted, moved, conflicting) and unusable items',
    left: [
      { metric: 'PositionsUpdated' },
      { metric: 'PositionsSkipped' },
      { metric: 'InvalidPositions', label: 'unusable positions (bad ticker, shares, costBasis)' },
      { metric: 'InvalidPortfolios', label: 'unusable portfolios (no id)' },
    ],
    width: 8,
  },
  {
    title: 'Analyses: stored, skipped (already done), failed',
    left: [
      { metric: 'AnalysesStored' },
      { metric: 'AnalysesSkipped' },
      { metric: 'AnalysisFailures' },
    ],
    width: 8,
  },
  {
    title: 'Grok cost per day (USD) and tokens',
    left: [{ metric: 'XaiCostUsd', period: day, label: 'cost USD' }],
    right: [
      { metric: 'XaiPromptTokens', period: day, label: 'prompt tokens' },
      { metric: 'XaiCompletionTokens', period: day, label: 'completion tokens' },
    ],
    width: 8,
  },
];

const fiveMinutes = Duration.minutes(5);

/**
 * The per-stage CloudWatch dashboard and the alarms that page the SNS topic (with OK actions so
 * they clear). Widgets are titled for someone who has never seen the service. Each `add…`
 * method adds one row of widgets, in the dashboard's order.
 */
export class ServiceDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ServiceDashboardProps,
  ) {
    super(scope, id);
    this.action = new actions.SnsAction(props.alarmTopic);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    this.addHeader();
    for (const [name, fn] of Object.entries(props.functions)) this.addFunction(name, fn);
    for (const q of props.queues) this.addQueue(q);
    this.addBusinessMetrics();
    this.addSpendCap();
    this.addTrackRecord();
    this.addTableThrottles();
  }

  /** An alarm at `threshold` on one period that pages the topic and clears (OK action). */
  private alarm(
    alarmId: string,
    alarmName: string,
    alarmDescription: string,
    metric: cloudwatch.IMetric,
    threshold: { value: number; orEqual: boolean },
  ): cloudwatch.Alarm {
    const a = new cloudwatch.Alarm(this, alarmId, {
      alarmName,
      alarmDescription,
      metric,
      threshold: threshold.value,
      evaluationPeriods: 1,
      comparisonOperator: threshold.orEqual
        ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    a.addAlarmAction(this.action);
    a.addOkAction(this.action);
    this.alarms.push(a);
    return a;
  }

  private addHeader(): void {
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${this.props.dashboardName}\nNightly market-data refresh (processTickers → ticker queue → processTicker) ` +
          'and Grok analysis (analyzePortfolios → analysis queue → analyzePortfolio). ' +
          'Any message in a dead-letter queue is work that failed all its retries: see README "Operate".',
        width: 24,
        height: 2,
      }),
    );
  }

  /** A function's error alarm and its row: invocations/errors/throttles, duration p50/p99. */
  private addFunction(name: string, fn: lambda.IFunction): void {
    const errors = fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' });
    this.alarm(
      `${name}Errors`,
      `${this.props.alarmPrefix}-${name}-errors`,
      `${name} reported function errors (a failed run or record). Check its log group.`,
      errors,
      { value: 1, orEqual: true },
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${name}: invocations, errors, throttles`,
        left: [
          fn.metricInvocations({ period: fiveMinutes }),
          errors,
          fn.metricThrottles({ period: fiveMinutes }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: duration p50 / p99 (ms)`,
        left: [
          fn.metricDuration({ period: fiveMinutes, statistic: 'p50' }),
          fn.metricDuration({ period: fiveMinutes, statistic: 'p99' }),
        ],
        width: 12,
      }),
    );
  }

  /** A queue's DLQ and age alarms and its row: depth and in flight, oldest age, DLQ depth. */
  private addQueue(q: DashboardQueue): void {
    const idBase = q.title.replace(/[^A-Za-z0-9]/g, '');
    const { queue, dlq } = q.workQueue;
    const dlqDepth = q.workQueue.dlqDepth();
    this.alarm(
      `${idBase}DlqNotEmpty`,
      `${this.props.alarmPrefix}-${dlq.queueName}-not-empty`,
      `${q.title}: messages in the dead-letter queue failed every retry. Inspect, fix, then redrive (README "Operate").`,
      dlqDepth,
      { value: 0, orEqual: false },
    );
    const age = queue.metricApproximateAgeOfOldestMessage({
      period: fiveMinutes,
      statistic: 'Maximum',
    });
    const maxAge = q.maxMessageAge.toSeconds();
    this.alarm(
      `${idBase}QueueAge`,
      `${this.props.alarmPrefix}-${queue.queueName}-age`,
      `${q.title}: the oldest message waited over ${maxAge} s; the consumer is stuck or failing.`,
      age,
      { value: maxAge, orEqual: false },
    );
    const depth = { period: fiveMinutes, statistic: 'Maximum' };
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${q.title} queue: messages waiting and in flight`,
        left: [
          queue.metricApproximateNumberOfMessagesVisible(depth),
          queue.metricApproximateNumberOfMessagesNotVisible(depth),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${q.title} queue: age of oldest message (s)`,
        left: [age],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${q.title} dead-letter queue: failed messages`,
        left: [dlqDepth],
        width: 8,
      }),
    );
  }

  /** A business metric of the handlers (namespace and dimensions of `businessMetrics`). */
  private business(
    metricName: MetricName,
    statistic: string,
    period: Duration,
    label?: string,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.businessMetrics.namespace,
      metricName,
      dimensionsMap: { ...this.props.businessMetrics.dimensions },
      statistic,
      period,
      label,
    });
  }

  /** The business alarms ({@link BUSINESS_ALARMS}) and graphs ({@link BUSINESS_WIDGETS}). */
  private addBusinessMetrics(): void {
    for (const a of BUSINESS_ALARMS) {
      const metric = this.business(a.metric, a.statistic ?? 'Sum', a.period ?? fiveMinutes);
      this.alarm(
        `${a.name ?? a.metric}Alarm`,
        `${this.props.alarmPrefix}-${a.name ?? a.metric}`,
        a.description,
        metric,
        {
          value: 1,
          orEqual: true,
        },
      );
    }
    const series = (s: BusinessSeries) =>
      this.business(s.metric, 'Sum', s.period ?? Duration.hours(1), s.label);
    this.dashboard.addWidgets(
      ...BUSINESS_WIDGETS.map(
        (w) =>
          new cloudwatch.GraphWidget({
            title: w.title,
            left: w.left.map(series),
            ...(w.right ? { right: w.right.map(series) } : {}),
            width: w.width,
          }),
      ),
    );
  }

  /**
   * One row: the night's xAI cost (the Sum of XaiCostUsd per UTC day, the night of
   * lambdas/analysis/spend-cap.ts) against a line at the stage's cap, with the portfolios skipped
   * for budget (its alarm, SpendCapReached, is one of BUSINESS_ALARMS).
   */
  private addSpendCap(): void {
    const cap = this.props.xaiMaxUsdPerNight;
    const { left, right } = SPEND_CAP_WIDGET;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `xAI spend per night (USD) against the cap ($${cap}), and portfolios skipped for budget`,
        left: [this.business(left.metric, 'Sum', day, left.label)],
        leftAnnotations: [{ value: cap, label: `cap $${cap} per night`, color: '#d62728' }],
        leftYAxis: { min: 0 },
        right: [this.business(right.metric, 'Sum', day, right.label)],
        width: 24,
      }),
    );
  }

  /**
   * One row: the score track record per model and prompt version (a SEARCH over the dimensions
   * `model` and `promptVersion`, so a new model or prompt appears without a deploy).
   */
  private addTrackRecord(): void {
    const { namespace, dimensions } = this.props.businessMetrics;
    const keys = ['model', 'promptVersion', ...Object.keys(dimensions)].join(',');
    const filter = Object.entries(dimensions)
      .map(([k, v]) => `${k}="${v}"`)
      .join(' ');
    const search = (metric: MetricName, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${keys}} MetricName="${metric}" ${filter}', 'Maximum', 86400)`,
        label,
        period: Duration.days(1),
      });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Score track record: hit rate (left) and mean rank IC (right), trailing 60 sessions',
        left: [search('TrackRecordHitRate', 'hit rate')],
        right: [search('TrackRecordIC', 'mean IC')],
        leftYAxis: { min: 0, max: 1 },
        rightYAxis: { min: -1, max: 1 },
        width: 16,
      }),
      new cloudwatch.GraphWidget({
        title: 'Score track record: scores behind it (a few hundred is still noise)',
        left: [search('TrackRecordScores', 'scores')],
        width: 8,
      }),
    );
  }

  /** One row: each table's throttled reads + writes. */
  private addTableThrottles(): void {
    const throttleMetric = (table: dynamodb.ITable, name: string) =>
      table.metric(name, { period: fiveMinutes, statistic: 'Sum' });
    const throttles = Object.entries(this.props.tables).map(
      ([label, table], i) =>
        new cloudwatch.MathExpression({
          label: `${label} throttled requests`,
          expression: `r${i} + w${i}`,
          usingMetrics: {
            [`r${i}`]: throttleMetric(table, 'ReadThrottleEvents'),
            [`w${i}`]: throttleMetric(table, 'WriteThrottleEvents'),
          },
          period: fiveMinutes,
        }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'DynamoDB: throttled reads + writes per table',
        left: throttles,
        width: 24,
      }),
    );
  }
}
