import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { FunctionName, StageConfig } from '../config/stages';
import { IngestSchedules } from '../constructs/ingest-schedules';
import { OwnedTables } from '../constructs/owned-tables';
import { grantSecretRead } from '../constructs/secret-grant';
import { ServiceDashboard } from '../constructs/service-dashboard';
import { SharedTables } from '../constructs/shared-tables';
import { WorkQueue } from '../constructs/work-queue';
import { WorkerFunction } from '../constructs/worker-function';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Powertools service name (a metric dimension and a log key). */
export const SERVICE_NAME = 'backend-processing';
/** CloudWatch namespace of the handlers' EMF metrics. */
export const METRICS_NAMESPACE = 'ZsmSevenBackendProcessing';

/** Function name operators type: `zsmseven-backend-processing-api-{stage}-{function}`. */
export const functionPhysicalName = (stage: string, fn: FunctionName) =>
  `zsmseven-backend-processing-api-${stage}-${fn}`;

/** Entry file of each function under `lambdas/handlers/`. */
export const functionEntries: Readonly<Record<FunctionName, string>> = {
  processTickers: 'process-tickers.ts',
  processTicker: 'process-ticker.ts',
  analyzePortfolios: 'analyze-portfolios.ts',
  analyzePortfolio: 'analyze-portfolio.ts',
  checkFreshness: 'check-freshness.ts',
};

const descriptions: Readonly<Record<FunctionName, string>> = {
  processTickers:
    'Collects the tickers of active portfolios and queues the nightly market-data refresh',
  processTicker:
    'Refreshes market data from Polygon within the request budget and reprices positions',
  analyzePortfolios: 'Queues one Grok analysis per active portfolio',
  analyzePortfolio: 'Analyses one portfolio with Grok and stores the scores',
  checkFreshness:
    'Publishes StaleData = 1 when the latest session was not refreshed by the deadline',
};

/**
 * One stack per stage (SYSTEM.md: `cdk deploy --context stage=dev` deploys the whole service).
 * The stateful parts live in the OwnedTables construct with pinned logical IDs.
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
    const { stage } = config;
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    Tags.of(this).add('Service', 'zsmseven-backend-processing');
    Tags.of(this).add('Stage', stage);

    this.tables = new OwnedTables(this, 'Tables', {
      stage,
      mode: config.ownedTables,
      removalPolicy,
    });
    const shared = new SharedTables(this, 'SharedTables', config.sharedTables);

    this.tickerQueue = new WorkQueue(this, 'TickerQueue', {
      queueName: `ticker-processing-queue-${stage}`,
      dlqName: `ticker-processing-dlq-${stage}`,
      consumerTimeout: Duration.seconds(config.functions.processTicker.timeoutSeconds),
      maxReceiveCount: config.tickerQueue.maxReceiveCount,
      removalPolicy,
    });
    this.analysisQueue = new WorkQueue(this, 'AnalysisQueue', {
      queueName: `portfolio-analysis-queue-${stage}`,
      dlqName: `portfolio-analysis-dlq-${stage}`,
      consumerTimeout: Duration.seconds(config.functions.analyzePortfolio.timeoutSeconds),
      maxReceiveCount: config.analysisQueue.maxReceiveCount,
      removalPolicy,
    });

    // One environment contract for every function (SYSTEM.md), the same names as a local run.
    const environment: Record<string, string> = {
      STAGE: stage,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      TICKER_DATA_TABLE: this.tables.tickerData.tableName,
      ANALYSES_TABLE: this.tables.analyses.tableName,
      STATE_TABLE: this.tables.state.tableName,
      PORTFOLIOS_TABLE: shared.portfolios.tableName,
      POSITIONS_TABLE: shared.positions.tableName,
      SQS_QUEUE_URL: this.tickerQueue.queue.queueUrl,
      ANALYSIS_QUEUE_URL: this.analysisQueue.queue.queueUrl,
      POLYGON_BASE_URL: config.polygonBaseUrl,
      POLYGON_REQUESTS_PER_MINUTE: String(config.polygonRequestsPerMinute),
      POLYGON_API_KEY_SECRET: config.secrets.polygonApiKey.name,
      XAI_API_URL: config.xaiApiUrl,
      XAI_MODEL: config.xaiModel,
      XAI_API_KEY_SECRET: config.secrets.xaiApiKey.name,
    };

    const fn = (name: FunctionName) =>
      new WorkerFunction(this, `${name[0].toUpperCase()}${name.slice(1)}Function`, {
        functionName: functionPhysicalName(stage, name),
        entryFile: functionEntries[name],
        description: descriptions[name],
        settings: config.functions[name],
        environment,
        logRetentionDays: config.logRetentionDays,
        logRemovalPolicy: removalPolicy,
      });
    this.functions = {
      processTickers: fn('processTickers'),
      processTicker: fn('processTicker'),
      analyzePortfolios: fn('analyzePortfolios'),
      analyzePortfolio: fn('analyzePortfolio'),
      checkFreshness: fn('checkFreshness'),
    };
    const { processTickers, processTicker, analyzePortfolios, analyzePortfolio, checkFreshness } =
      this.functions;

    // processTickers: read portfolios/positions, queue the refresh.
    shared.grantRead(processTickers);
    this.tickerQueue.queue.grantSendMessages(processTickers);

    // processTicker: Polygon (its secret), ticker-data, the budget, position prices, deferrals.
    shared.grantRead(processTicker);
    shared.grantPositionPriceUpdate(processTicker);
    this.tables.tickerData.grantReadWriteData(processTicker);
    this.tables.state.grantReadWriteData(processTicker);
    this.tickerQueue.queue.grantSendMessages(processTicker);
    grantSecretRead(this, 'PolygonApiKeySecret', config.secrets.polygonApiKey, processTicker);
    processTicker.addEventSource(
      new lambdaEventSources.SqsEventSource(this.tickerQueue.queue, {
        batchSize: config.tickerQueue.batchSize,
        maxConcurrency: config.tickerQueue.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // analyzePortfolios: read portfolios/positions, queue analyses.
    shared.grantRead(analyzePortfolios);
    this.analysisQueue.queue.grantSendMessages(analyzePortfolios);

    // analyzePortfolio: read everything it summarises, write analyses, claim work, call xAI.
    shared.grantRead(analyzePortfolio);
    this.tables.tickerData.grantReadData(analyzePortfolio);
    this.tables.analyses.grantReadWriteData(analyzePortfolio);
    this.tables.state.grantReadWriteData(analyzePortfolio);
    grantSecretRead(this, 'XaiApiKeySecret', config.secrets.xaiApiKey, analyzePortfolio);
    analyzePortfolio.addEventSource(
      new lambdaEventSources.SqsEventSource(this.analysisQueue.queue, {
        batchSize: config.analysisQueue.batchSize,
        maxConcurrency: config.analysisQueue.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    new IngestSchedules(this, 'Schedules', {
      tickerRefresh: {
        description: `Nightly market-data refresh (${stage})`,
        schedule: config.schedules.tickerRefresh,
        target: processTickers,
      },
      analysis: {
        description: `Nightly portfolio analysis (${stage})`,
        schedule: config.schedules.analysis,
        target: analyzePortfolios,
      },
      freshnessCheck: {
        description: `Data-freshness check after the nightly refresh (${stage})`,
        schedule: config.schedules.freshnessCheck,
        target: checkFreshness,
      },
    });
    // checkFreshness reads one item: the refresh marker.
    this.tables.state.grant(checkFreshness, 'dynamodb:GetItem');

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `backend-processing-${stage} alarms`,
      enforceSSL: true,
    });
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names only, no customer data. CloudWatch alarms cannot publish to a topic ' +
        'encrypted with the AWS-managed SNS key, and a customer-managed key per stage is not worth its cost here.',
    });
    if (config.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }

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
      },
      alarmTopic: this.alarmTopic,
    });

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
    out('AlarmTopicArn', this.alarmTopic.topicArn, 'SNS topic that receives every alarm');
    out('DashboardName', `backend-processing-${stage}`, 'CloudWatch dashboard');
  }
}
