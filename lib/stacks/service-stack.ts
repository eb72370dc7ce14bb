import { CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stages';
import type { FunctionName } from '../functions';
import { ANALYSIS_PIPELINE } from '../constructs/analysis-pipeline';
import { FreshnessCheck } from '../constructs/freshness-check';
import { TrackRecordJob } from '../constructs/track-record-job';
import { IngestSchedules } from '../constructs/ingest-schedules';
import { MARKET_DATA_PIPELINE } from '../constructs/market-data-pipeline';
import { QueuePipeline } from '../constructs/queue-pipeline';
import { OwnedTables } from '../constructs/owned-tables';
import { ServiceDashboard } from '../constructs/service-dashboard';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  removalPolicyOf,
  type ServiceBase,
} from '../constructs/service-functions';
import { SharedTables } from '../constructs/shared-tables';
import type { WorkQueue } from '../constructs/work-queue';
import type { WorkerFunction } from '../constructs/worker-function';

export { METRICS_NAMESPACE, SERVICE_NAME } from '../constructs/service-functions';
export { functionPhysicalName } from '../functions';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
}

/**
 * One stack per stage (SYSTEM.md: `cdk deploy --context stage=dev` deploys the whole service).
 * It only composes: the tables, the two nightly pipelines, the freshness check, the alarm topic
 * and the dashboard. The pipelines create their resources in this stack's scope, so logical IDs
 * are those of the deployed stack; the stateful parts live in OwnedTables with pinned IDs.
 */
export class ServiceStack extends Stack {
  public readonly functions: Record<FunctionName, WorkerFunction>;
  public readonly tickerQueue: WorkQueue;
  public readonly analysisQueue: WorkQueue;
  public readonly tables: OwnedTables;
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    Tags.of(this).add('Service', 'zsmseven-backend-processing');
    Tags.of(this).add('Stage', config.stage);

    this.tables = new OwnedTables(this, 'Tables', {
      stage: config.stage,
      mode: config.ownedTables,
      removalPolicy,
    });
    const shared = new SharedTables(this, 'SharedTables', config.sharedTables);
    const base: ServiceBase = { scope: this, config, removalPolicy, tables: this.tables, shared };
    const schedules = new IngestSchedules(this, 'Schedules');
    const marketData = new QueuePipeline(base, schedules, MARKET_DATA_PIPELINE);
    const analysis = new QueuePipeline(base, schedules, ANALYSIS_PIPELINE);
    const freshness = new FreshnessCheck(base, schedules);
    const trackRecord = new TrackRecordJob(base, schedules);
    this.tickerQueue = marketData.workQueue;
    this.analysisQueue = analysis.workQueue;
    // In the registry's order: the dashboard lists the functions' rows in this order.
    this.functions = {
      processTickers: marketData.producer,
      processTicker: marketData.consumer,
      analyzePortfolios: analysis.producer,
      analyzePortfolio: analysis.consumer,
      checkFreshness: freshness.fn,
      evaluateAnalyses: trackRecord.fn,
    };

    this.alarmTopic = this.createAlarmTopic(config);
    this.createDashboard(config);
    this.createOutputs(config);
  }

  /** The SNS topic every alarm pages, writable by CloudWatch of this account only. */
  private createAlarmTopic(config: StageConfig): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `backend-processing-${config.stage} alarms`,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names only, no customer data. CloudWatch alarms cannot publish to a topic ' +
        'encrypted with the AWS-managed SNS key, and a customer-managed key per stage is not worth its cost here.',
    });
    if (config.alarmEmail) {
      topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    return topic;
  }

  private createDashboard(config: StageConfig): void {
    const { stage } = config;
    new ServiceDashboard(this, 'Monitoring', {
      dashboardName: `backend-processing-${stage}`,
      alarmPrefix: `backend-processing-${stage}`,
      businessMetrics: {
        namespace: METRICS_NAMESPACE,
        dimensions: { service: SERVICE_NAME, stage },
      },
      functions: this.functions,
      queues: [
        {
          title: 'Ticker processing',
          workQueue: this.tickerQueue,
          maxMessageAge: Duration.seconds(config.tickerQueue.maxMessageAgeSeconds),
        },
        {
          title: 'Portfolio analysis',
          workQueue: this.analysisQueue,
          maxMessageAge: Duration.seconds(config.analysisQueue.maxMessageAgeSeconds),
        },
      ],
      tables: {
        'ticker-data': this.tables.tickerData,
        'portfolio-analyses': this.tables.analyses,
        state: this.tables.state,
        'analysis-track-record': this.tables.trackRecord,
      },
      alarmTopic: this.alarmTopic,
      xaiMaxUsdPerNight: config.xaiMaxUsdPerNight,
    });
  }

  private createOutputs(config: StageConfig): void {
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    for (const [name, f] of Object.entries(this.functions)) {
      out(`${name}FunctionName`, f.functionName, `Lambda function ${name}`);
    }
    out('TickerQueueUrl', this.tickerQueue.queue.queueUrl, 'ticker-processing-queue URL');
    out('TickerDlqUrl', this.tickerQueue.dlq.queueUrl, 'ticker-processing-dlq URL');
    out('AnalysisQueueUrl', this.analysisQueue.queue.queueUrl, 'portfolio-analysis-queue URL');
    out('AnalysisDlqUrl', this.analysisQueue.dlq.queueUrl, 'portfolio-analysis-dlq URL');
    out('TickerDataTableName', this.tables.tickerData.tableName, 'ticker-data table');
    out('AnalysesTableName', this.tables.analyses.tableName, 'portfolio-analyses table');
    out(
      'StateTableName',
      this.tables.state.tableName,
      'service state table (request budget, claims)',
    );
    out('TrackRecordTableName', this.tables.trackRecord.tableName, 'analysis-track-record table');
    out('AlarmTopicArn', this.alarmTopic.topicArn, 'SNS topic that receives every alarm');
    out('DashboardName', `backend-processing-${config.stage}`, 'CloudWatch dashboard');
  }
}
