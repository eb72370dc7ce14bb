import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
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
}

/**
 * Business metrics that mean "work was lost or cannot proceed" and page at the first occurrence,
 * with what to do (the README "Operate" section has the full runbook).
 */
export const FAILURE_ALARMS: readonly { metric: string; description: string }[] = [
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

/**
 * The per-stage CloudWatch dashboard and the alarms that page the SNS topic (with OK actions so
 * they clear). Widgets are titled for someone who has never seen the service.
 */
export class ServiceDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${props.dashboardName}\nNightly market-data refresh (processTickers → ticker queue → processTicker) ` +
          'and Grok analysis (analyzePortfolios → analysis queue → analyzePortfolio). ' +
          'Any message in a dead-letter queue is work that failed all its retries: see README "Operate".',
        width: 24,
        height: 2,
      }),
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      const errors = fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' });
      alarm(`${name}Errors`, {
        alarmName: `${props.alarmPrefix}-${name}-errors`,
        alarmDescription: `${name} reported function errors (a failed run or record). Check its log group.`,
        metric: errors,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${name}: invocations, errors, throttles`,
          left: [
            fn.metricInvocations({ period: Duration.minutes(5) }),
            errors,
            fn.metricThrottles({ period: Duration.minutes(5) }),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration p50 / p99 (ms)`,
          left: [
            fn.metricDuration({ period: Duration.minutes(5), statistic: 'p50' }),
            fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }),
          ],
          width: 12,
        }),
      );
    }

    for (const q of props.queues) {
      const idBase = q.title.replace(/[^A-Za-z0-9]/g, '');
      const dlqDepth = q.workQueue.dlqDepth();
      alarm(`${idBase}DlqNotEmpty`, {
        alarmName: `${props.alarmPrefix}-${q.workQueue.dlq.queueName}-not-empty`,
        alarmDescription: `${q.title}: messages in the dead-letter queue failed every retry. Inspect, fix, then redrive (README "Operate").`,
        metric: dlqDepth,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const age = q.workQueue.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      });
      alarm(`${idBase}QueueAge`, {
        alarmName: `${props.alarmPrefix}-${q.workQueue.queue.queueName}-age`,
        alarmDescription: `${q.title}: the oldest message waited over ${q.maxMessageAge.toSeconds()} s; the consumer is stuck or failing.`,
        metric: age,
        threshold: q.maxMessageAge.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${q.title} queue: messages waiting and in flight`,
          left: [
            q.workQueue.queue.metricApproximateNumberOfMessagesVisible({
              period: Duration.minutes(5),
              statistic: 'Maximum',
            }),
            q.workQueue.queue.metricApproximateNumberOfMessagesNotVisible({
              period: Duration.minutes(5),
              statistic: 'Maximum',
            }),
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

    const business = (
      metricName: string,
      statistic = 'Sum',
      period = Duration.hours(1),
      label?: string,
    ) =>
      new cloudwatch.Metric({
        namespace: props.businessMetrics.namespace,
        metricName,
        dimensionsMap: { ...props.businessMetrics.dimensions },
        statistic,
        period,
        label,
      });
    for (const f of FAILURE_ALARMS) {
      alarm(`${f.metric}Alarm`, {
        alarmName: `${props.alarmPrefix}-${f.metric}`,
        alarmDescription: f.description,
        metric: business(f.metric, 'Sum', Duration.minutes(5)),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('StaleDataAlarm', {
      alarmName: `${props.alarmPrefix}-StaleData`,
      alarmDescription:
        'The latest trading session was not refreshed by the freshness deadline (holidays never page). ' +
        'Check processTicker logs and the ticker DLQ; run processTickers by hand once fixed.',
      metric: business('StaleData', 'Maximum', Duration.hours(1)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Market data: tickers found vs refreshed (per hour)',
        left: [
          business('TickersFound', 'Sum', Duration.hours(1), 'found in portfolios'),
          business('TickersRefreshed', 'Sum', Duration.hours(1), 'refreshed'),
          business('TickersAlreadyFresh', 'Sum', Duration.hours(1), 'already fresh'),
          business('TickersWithoutData', 'Sum', Duration.hours(1), 'no data at Polygon'),
          business('InvalidTickers', 'Sum', Duration.hours(1), 'invalid symbols'),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Polygon: HTTP requests, 429s and deferrals (per hour)',
        left: [
          business('PolygonHttpRequests', 'Sum', Duration.hours(1), 'requests'),
          business('Polygon429s', 'Sum', Duration.hours(1), '429 rate limited'),
          business(
            'Deferrals',
            'Sum',
            Duration.hours(1),
            'jobs deferred (budget, 429, unpublished)',
          ),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Positions repriced vs skipped (deleted, moved, conflicting)',
        left: [business('PositionsUpdated'), business('PositionsSkipped')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Analyses: stored, skipped (already done), failed',
        left: [
          business('AnalysesStored'),
          business('AnalysesSkipped'),
          business('AnalysisFailures'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Grok cost per day (USD) and tokens',
        left: [business('XaiCostUsd', 'Sum', Duration.days(1), 'cost USD')],
        right: [
          business('XaiPromptTokens', 'Sum', Duration.days(1), 'prompt tokens'),
          business('XaiCompletionTokens', 'Sum', Duration.days(1), 'completion tokens'),
        ],
        width: 8,
      }),
    );

    const throttles = Object.entries(props.tables).map(
      ([label, table], i) =>
        new cloudwatch.MathExpression({
          label: `${label} throttled requests`,
          expression: `r${i} + w${i}`,
          usingMetrics: {
            [`r${i}`]: table.metric('ReadThrottleEvents', {
              period: Duration.minutes(5),
              statistic: 'Sum',
            }),
            [`w${i}`]: table.metric('WriteThrottleEvents', {
              period: Duration.minutes(5),
              statistic: 'Sum',
            }),
          },
          period: Duration.minutes(5),
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
