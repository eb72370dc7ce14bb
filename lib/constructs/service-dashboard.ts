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
}

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
