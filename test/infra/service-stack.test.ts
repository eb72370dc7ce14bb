import { Match } from 'aws-cdk-lib/assertions';
import { stages, type FunctionName, type StageName } from '../../lib/config/stages';
import { POSITION_PRICE_WRITE_ATTRIBUTES, READ_ACTIONS } from '../../lib/constructs/shared-tables';
import { FAILURE_ALARMS } from '../../lib/constructs/service-dashboard';
import {
  functionPhysicalName,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../../lib/stacks/service-stack';
import { synthStage } from '../helpers/synth';

/** The four pipeline functions of SYSTEM.md. */
const PIPELINE: FunctionName[] = [
  'processTickers',
  'processTicker',
  'analyzePortfolios',
  'analyzePortfolio',
];
const FUNCTIONS: FunctionName[] = [...PIPELINE, 'checkFreshness', 'evaluateAnalyses'];

type Resources = Record<
  string,
  {
    Type: string;
    Properties: Record<string, any>;
    DeletionPolicy?: string;
    UpdateReplacePolicy?: string;
  }
>;

describe.each(['dev', 'prod'] as StageName[])('ServiceStack (%s)', (stage) => {
  const config = stages[stage];
  const { template, stack } = synthStage(stage);
  const resources = template.toJSON().Resources as Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const functionLogicalId = (fn: FunctionName) => {
    const found = ofType('AWS::Lambda::Function').find(
      ([, r]) => r.Properties.FunctionName === functionPhysicalName(stage, fn),
    );
    if (!found) throw new Error(`no function ${fn}`);
    return found[0];
  };
  const policyStatementsOf = (fn: FunctionName): any[] => {
    const roleRef = resources[functionLogicalId(fn)].Properties.Role['Fn::GetAtt'][0];
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleRef))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  };
  const allowedActions = (fn: FunctionName) =>
    new Set(
      policyStatementsOf(fn).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );

  it('names the stack after the stage and protects prod from deletion', () => {
    expect(stack.stackName).toBe(`zsmseven-backend-processing-${stage}`);
    expect(stack.terminationProtection).toBe(stage === 'prod');
  });

  describe('owned tables', () => {
    const tableMode = config.ownedTables;

    it(`${tableMode === 'create' ? 'creates' : 'references without creating'} ticker-data and portfolio-analyses`, () => {
      const named = (name: string) =>
        ofType('AWS::DynamoDB::Table').filter(([, r]) => r.Properties.TableName === name);
      expect(named(`ticker-data-${stage}`)).toHaveLength(tableMode === 'create' ? 1 : 0);
      expect(named(`portfolio-analyses-${stage}`)).toHaveLength(tableMode === 'create' ? 1 : 0);
    });

    if (tableMode === 'create') {
      it.each([
        ['TickerDataTable', `ticker-data-${stage}`, 'ticker'],
        ['PortfolioAnalysesTable', `portfolio-analyses-${stage}`, 'portfolio'],
      ])(
        'keeps the logical ID %s for %s, on-demand with PITR and the contract keys',
        (logicalId, name, hashKey) => {
          const t = resources[logicalId];
          expect(t.Properties.TableName).toBe(name);
          expect(t.Properties.KeySchema).toEqual([
            { AttributeName: hashKey, KeyType: 'HASH' },
            { AttributeName: 'timestamp', KeyType: 'RANGE' },
          ]);
          expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
          expect(t.Properties.PointInTimeRecoverySpecification).toEqual({
            PointInTimeRecoveryEnabled: true,
          });
          const retained = config.removalPolicy === 'retain';
          expect(t.DeletionPolicy).toBe(retained ? 'Retain' : 'Delete');
          expect(t.Properties.DeletionProtectionEnabled).toBe(retained);
        },
      );
    }

    it('keeps the state table under a pinned logical ID with TTL', () => {
      const t = resources.ServiceStateTable;
      expect(t.Type).toBe('AWS::DynamoDB::Table');
      expect(t.Properties.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(t.Properties.TimeToLiveSpecification).toEqual({
        AttributeName: 'expiresAt',
        Enabled: true,
      });
      expect(t.DeletionPolicy).toBe(config.removalPolicy === 'retain' ? 'Retain' : 'Delete');
    });
  });

  describe('queues', () => {
    it.each([
      [
        'ticker-processing-queue',
        'ticker-processing-dlq',
        'processTicker',
        config.tickerQueue,
      ] as const,
      [
        'portfolio-analysis-queue',
        'portfolio-analysis-dlq',
        'analyzePortfolio',
        config.analysisQueue,
      ] as const,
    ])(
      '%s has a DLQ, a 6× visibility timeout and SSE',
      (queueName, dlqName, consumer, consumerConfig) => {
        const queues = ofType('AWS::SQS::Queue');
        const [dlqId, dlq] = queues.find(
          ([, q]) => q.Properties.QueueName === `${dlqName}-${stage}`,
        )!;
        const [, queue] = queues.find(
          ([, q]) => q.Properties.QueueName === `${queueName}-${stage}`,
        )!;
        // SQS keeps the original enqueue time in the DLQ: its retention must be the longer one.
        expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
        expect(queue.Properties.MessageRetentionPeriod).toBe(4 * 24 * 3600);
        expect(dlq.Properties.MessageRetentionPeriod).toBeGreaterThan(
          queue.Properties.MessageRetentionPeriod,
        );
        expect(queue.Properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
          maxReceiveCount: consumerConfig.maxReceiveCount,
        });
        expect(consumerConfig.maxReceiveCount).toBeGreaterThanOrEqual(5);
        const fnTimeout = resources[functionLogicalId(consumer)].Properties.Timeout;
        expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fnTimeout);
        expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
        expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
      },
    );

    it('enforces TLS on every queue', () => {
      const policies = ofType('AWS::SQS::QueuePolicy');
      expect(policies).toHaveLength(4);
      for (const [, p] of policies) {
        expect(p.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        );
      }
    });

    it.each([
      ['processTicker', config.tickerQueue] as const,
      ['analyzePortfolio', config.analysisQueue] as const,
    ])(
      '%s consumes its queue with partial batch failures and the configured concurrency',
      (fn, q) => {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: functionLogicalId(fn) },
          BatchSize: q.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: q.maxConcurrency },
        });
      },
    );

    it('never sets reserved concurrency on a function (defect 2)', () => {
      for (const [, f] of ofType('AWS::Lambda::Function')) {
        expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    });
  });

  describe('functions', () => {
    it.each(FUNCTIONS)(
      '%s runs on a pinned Node runtime, arm64, with the configured size',
      (fn) => {
        const f = resources[functionLogicalId(fn)].Properties;
        expect(f.FunctionName).toBe(`zsmseven-backend-processing-api-${stage}-${fn}`);
        expect(f.Runtime).toMatch(/^nodejs(22|24)\.x$/);
        expect(f.Architectures).toEqual(['arm64']);
        expect(f.MemorySize).toBe(config.functions[fn].memoryMb);
        expect(f.Timeout).toBe(config.functions[fn].timeoutSeconds);
        expect(f.Handler).toBe('index.handler');
        expect(f.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      },
    );

    // Which variables each function gets: test/infra/function-registry.test.ts.
    it.each(FUNCTIONS)('%s gets its variables from the stage config and no key values', (fn) => {
      const env = resources[functionLogicalId(fn)].Properties.Environment.Variables;
      const expected: Record<string, unknown> = {
        STAGE: stage,
        PORTFOLIOS_TABLE: `user-portfolios-${stage}`,
        POSITIONS_TABLE: `portfolio-positions-${stage}`,
        XAI_MODEL: config.xaiModel,
        XAI_MAX_USD_PER_NIGHT: String(config.xaiMaxUsdPerNight),
        XAI_API_URL: config.xaiApiUrl,
        POLYGON_BASE_URL: config.polygonBaseUrl,
        POLYGON_REQUESTS_PER_MINUTE: String(config.polygonRequestsPerMinute),
        POLYGON_API_KEY_SECRET: config.secrets.polygonApiKey.name,
        XAI_API_KEY_SECRET: config.secrets.xaiApiKey.name,
        STATE_TABLE: { Ref: 'ServiceStateTable' },
      };
      for (const [name, value] of Object.entries(expected)) {
        if (name in env) expect(env[name]).toEqual(value);
      }
      expect(env).not.toHaveProperty('POLYGON_API_KEY');
      expect(env).not.toHaveProperty('XAI_API_KEY');
    });

    it.each(FUNCTIONS)('%s logs to its own log group with the configured retention', (fn) => {
      const f = resources[functionLogicalId(fn)].Properties;
      const groupId = f.LoggingConfig.LogGroup.Ref;
      expect(resources[groupId].Properties).toMatchObject({
        LogGroupName: `/aws/lambda/${functionPhysicalName(stage, fn)}`,
        RetentionInDays: config.logRetentionDays,
      });
    });

    it('gives every function its own role', () => {
      const roles = FUNCTIONS.map((fn) =>
        JSON.stringify(resources[functionLogicalId(fn)].Properties.Role),
      );
      expect(new Set(roles).size).toBe(FUNCTIONS.length);
    });

    it('grants no wildcard action and no lambda:InvokeFunction (defect 11)', () => {
      for (const fn of FUNCTIONS) {
        for (const action of allowedActions(fn)) {
          expect(action).not.toMatch(/(^\*$|:\*$)/);
          expect(action).not.toBe('lambda:InvokeFunction');
        }
      }
    });
    it.each(FUNCTIONS)('%s names a resource in every statement (no Resource "*")', (fn) => {
      for (const s of policyStatementsOf(fn)) {
        const resources = [s.Resource].flat();
        expect(resources.length).toBeGreaterThan(0);
        for (const r of resources) expect(r).not.toBe('*');
      }
    });
  });

  describe('least privilege on tables', () => {
    const account = '123456789012';
    // Literal ARNs: cdk.json sets @aws-cdk/core:enablePartitionLiterals (the stage's region and
    // account are known, so the partition is written out instead of { Ref: AWS::Partition }).
    const tableArn = (name: string) =>
      `arn:aws:dynamodb:${config.env.region}:${account}:table/${name}`;
    const indexArn = (name: string, ix: string) => `${tableArn(name)}/index/${ix}`;
    const sharedResources = [
      tableArn(`user-portfolios-${stage}`),
      indexArn(`user-portfolios-${stage}`, 'UserIdIndex'),
      indexArn(`user-portfolios-${stage}`, 'UserNameIndex'),
      tableArn(`portfolio-positions-${stage}`),
      indexArn(`portfolio-positions-${stage}`, 'PortfolioIdIndex'),
      indexArn(`portfolio-positions-${stage}`, 'PortfolioTickerIndex'),
    ];

    it.each(PIPELINE)('%s reads the shared tables and their named indexes only', (fn) => {
      const statement = policyStatementsOf(fn).find((s) =>
        JSON.stringify(s.Resource).includes(`user-portfolios-${stage}`),
      );
      // @aws-cdk/iam:minimizePolicies sorts a statement's actions and resources.
      expect(statement).toEqual({
        Effect: 'Allow',
        Action: [...READ_ACTIONS].sort(),
        Resource: [...sharedResources].sort(),
      });
    });

    it('lets only processTicker update positions, and only their price attributes', () => {
      for (const fn of FUNCTIONS) {
        const updates = policyStatementsOf(fn).filter(
          (s) =>
            JSON.stringify(s.Resource).includes(`portfolio-positions-${stage}`) &&
            [s.Action].flat().includes('dynamodb:UpdateItem'),
        );
        if (fn !== 'processTicker') {
          expect(updates).toEqual([]);
          continue;
        }
        expect(updates).toEqual([
          {
            Effect: 'Allow',
            Action: 'dynamodb:UpdateItem',
            Resource: tableArn(`portfolio-positions-${stage}`),
            Condition: {
              'ForAllValues:StringEquals': {
                'dynamodb:Attributes': [...POSITION_PRICE_WRITE_ATTRIBUTES],
              },
              StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
            },
          },
        ]);
      }
    });

    it('gives no function PutItem/DeleteItem on the shared tables', () => {
      for (const fn of FUNCTIONS) {
        for (const s of policyStatementsOf(fn)) {
          const onShared = /user-portfolios|portfolio-positions/.test(JSON.stringify(s.Resource));
          if (!onShared) continue;
          const actions = [s.Action].flat();
          expect(actions).not.toContain('dynamodb:PutItem');
          expect(actions).not.toContain('dynamodb:DeleteItem');
          expect(actions).not.toContain('dynamodb:BatchWriteItem');
        }
      }
    });

    it('lets only processTicker write ticker-data and only analyzePortfolio write analyses', () => {
      const writes = (fn: FunctionName, table: string) =>
        policyStatementsOf(fn).some(
          (s) =>
            JSON.stringify(s.Resource).includes(table) &&
            [s.Action].flat().some((a: string) => /PutItem|BatchWriteItem/.test(a)),
        );
      const tickerRef =
        config.ownedTables === 'create' ? 'TickerDataTable' : `ticker-data-${stage}`;
      const analysesRef =
        config.ownedTables === 'create' ? 'PortfolioAnalysesTable' : `portfolio-analyses-${stage}`;
      expect(FUNCTIONS.filter((fn) => writes(fn, tickerRef))).toEqual(['processTicker']);
      expect(FUNCTIONS.filter((fn) => writes(fn, analysesRef))).toEqual(['analyzePortfolio']);
    });
  });

  describe('secrets', () => {
    const secretStatements = (fn: FunctionName) =>
      policyStatementsOf(fn).filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')),
      );

    it('lets processTicker read exactly the Polygon secret and analyzePortfolio exactly the xAI secret', () => {
      const only = (fn: FunctionName, name: string) => {
        const statements = secretStatements(fn);
        expect(statements).toHaveLength(1);
        expect(JSON.stringify(statements[0].Resource)).toContain(`:secret:${name}-??????`);
      };
      only('processTicker', config.secrets.polygonApiKey.name);
      only('analyzePortfolio', config.secrets.xaiApiKey.name);
      expect(secretStatements('processTickers')).toEqual([]);
      expect(secretStatements('analyzePortfolios')).toEqual([]);
      expect(secretStatements('checkFreshness')).toEqual([]);
    });
  });

  describe('schedules', () => {
    it.each([
      [
        'processTickers',
        'cron(30 4 ? * TUE-SAT *)',
        config.schedules.tickerRefresh.enabled,
      ] as const,
      ['analyzePortfolios', 'cron(0 6 ? * TUE-SAT *)', config.schedules.analysis.enabled] as const,
      [
        'checkFreshness',
        'cron(15 9 ? * TUE-SAT *)',
        config.schedules.freshnessCheck.enabled,
      ] as const,
      [
        'evaluateAnalyses',
        'cron(30 9-11 ? * TUE-SAT *)',
        config.schedules.trackRecord.enabled,
      ] as const,
    ])('triggers %s with %s, state from config', (fn, expression, enabled) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: expression,
        State: enabled ? 'ENABLED' : 'DISABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionLogicalId(fn), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
          }),
        ],
      });
    });

    it('keeps a switched-off schedule in the template as DISABLED', () => {
      const { template: off } = synthStage(stage, {
        schedules: {
          tickerRefresh: { ...config.schedules.tickerRefresh, enabled: false },
          analysis: { ...config.schedules.analysis, enabled: false },
          freshnessCheck: { ...config.schedules.freshnessCheck, enabled: false },
          trackRecord: { ...config.schedules.trackRecord, enabled: false },
        },
      });
      const rules = Object.values(off.findResources('AWS::Events::Rule'));
      expect(rules.map((r: any) => r.Properties.State)).toEqual([
        'DISABLED',
        'DISABLED',
        'DISABLED',
        'DISABLED',
      ]);
    });
  });

  describe('monitoring', () => {
    it('creates the dashboard under its contract name', () => {
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: `backend-processing-${stage}`,
      });
    });

    it('alarms on any message in either DLQ, to the topic, with OK actions', () => {
      for (const dlq of ['ticker-processing-dlq', 'portfolio-analysis-dlq']) {
        const [id] = ofType('AWS::SQS::Queue').find(
          ([, q]) => q.Properties.QueueName === `${dlq}-${stage}`,
        )!;
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
          OKActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        });
      }
    });

    it.each(FUNCTIONS)('alarms on errors of %s', (fn) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(fn) } }],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      });
    });

    it.each(FAILURE_ALARMS.map((f) => f.metric))(
      'pages on the first %s, on the metric the handlers emit (namespace, service + stage dimensions)',
      (metric) => {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: METRICS_NAMESPACE,
          MetricName: metric,
          Dimensions: Match.arrayWith([
            { Name: 'service', Value: SERVICE_NAME },
            { Name: 'stage', Value: stage },
          ]),
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
          OKActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        });
      },
    );

    it('pages when the freshness check finds the latest session missing', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: 'StaleData',
        Statistic: 'Maximum',
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      });
    });

    it('gives only analyzePortfolio the night spending cap of the stage config', () => {
      expect(config.xaiMaxUsdPerNight).toBeGreaterThan(0);
      const capped = FUNCTIONS.filter(
        (fn) =>
          'XAI_MAX_USD_PER_NIGHT' in
          resources[functionLogicalId(fn)].Properties.Environment.Variables,
      );
      expect(capped).toEqual(['analyzePortfolio']);
    });

    it('pages SpendCapReached at the first portfolio skipped for budget', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `backend-processing-${stage}-SpendCapReached`,
        Namespace: METRICS_NAMESPACE,
        MetricName: 'AnalysesSkippedBudget',
        Dimensions: Match.arrayWith([{ Name: 'stage', Value: stage }]),
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      });
    });

    it('graphs the spend per night against the cap on the dashboard', () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      const cap = config.xaiMaxUsdPerNight;
      expect(body).toContain(`spend per night (USD) against the cap ($${cap})`);
      // The cap as a horizontal line of the left axis, the spend as a daily Sum of XaiCostUsd.
      expect(body).toMatch(
        new RegExp(`\\\\"horizontal\\\\":\\[\\{[^\\]]*\\\\"value\\\\":${cap}[,}]`),
      );
      expect(body).toContain('\\"AnalysesSkippedBudget\\"');
      expect(body).toMatch(/XaiCostUsd[^\]]*spend USD \(UTC day\)[^\]]*\\"period\\":86400/);
    });

    it('lets checkFreshness read the refresh marker of the state table and nothing else', () => {
      const statements = policyStatementsOf('checkFreshness').filter((st) =>
        [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
      );
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: { 'Fn::GetAtt': ['ServiceStateTable', 'Arn'] },
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['refresh#*'] },
          },
        },
      ]);
    });

    it('creates analysis-track-record-{stage} in every mode, retained in prod', () => {
      const [[id, table]] = ofType('AWS::DynamoDB::Table').filter(
        ([, r]) => r.Properties.TableName === `analysis-track-record-${stage}`,
      );
      expect(id).toBe('AnalysisTrackRecordTable');
      expect(table.Properties.KeySchema).toEqual([
        { AttributeName: 'modelPrompt', KeyType: 'HASH' },
        { AttributeName: 'asOf', KeyType: 'RANGE' },
      ]);
      expect(table.DeletionPolicy).toBe(stage === 'prod' ? 'Retain' : 'Delete');
    });

    it('lets evaluateAnalyses query, update evaluations and put the aggregate, nothing more', () => {
      const statements = policyStatementsOf('evaluateAnalyses').filter((st) =>
        [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
      );
      const actionsOn = (pattern: RegExp) =>
        statements
          .filter((st) => pattern.test(JSON.stringify(st.Resource)))
          .flatMap((st) => [st.Action].flat())
          .sort();
      expect(actionsOn(/AnalysisTrackRecordTable/)).toEqual(['dynamodb:PutItem']);
      expect(actionsOn(/ServiceStateTable/)).toEqual(['dynamodb:GetItem']);
      expect(actionsOn(/portfolio-analyses|PortfolioAnalysesTable/)).toEqual([
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(actionsOn(/ticker-data|TickerDataTable/)).toEqual(['dynamodb:Query']);
      expect(allowedActions('evaluateAnalyses').has('dynamodb:Scan')).toBe(true); // portfolios only
    });

    it('shows the score track record per model and prompt on the dashboard', () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      for (const metric of ['TrackRecordHitRate', 'TrackRecordIC', 'TrackRecordScores'])
        expect(body).toMatch(new RegExp(`MetricName=[\\\\"]+${metric}[\\\\"]`));
      expect(body).toContain('model,promptVersion');
    });

    it('shows the business metrics and the queue, DLQ and function metrics on the dashboard', () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      for (const metric of [
        'TickersFound',
        'TickersRefreshed',
        'TickersWithoutData',
        'PolygonHttpRequests',
        'Polygon429s',
        'Deferrals',
        'PositionsUpdated',
        'AnalysesStored',
        'AnalysisFailures',
        'XaiCostUsd',
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'Invocations',
        'Errors',
        'Throttles',
        'Duration',
        'ReadThrottleEvents',
      ]) {
        expect(body).toContain(`\\"${metric}\\"`);
      }
      expect(body).toContain(METRICS_NAMESPACE);
    });

    it('enforces TLS on the alarm topic and subscribes the alarm e-mail only when configured', () => {
      const topicPolicies = ofType('AWS::SNS::TopicPolicy');
      expect(JSON.stringify(topicPolicies)).toContain('"aws:SecureTransport":"false"');
      expect(ofType('AWS::SNS::Subscription')).toHaveLength(config.alarmEmail ? 1 : 0);
      const { template: withEmail } = synthStage(stage, { alarmEmail: 'oncall@example.com' });
      withEmail.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
      });
    });
  });

  it('outputs the names of the functions, queues and tables', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const fn of FUNCTIONS) {
      expect(outputs[`${fn}FunctionName`].Value).toEqual({ Ref: functionLogicalId(fn) });
    }
    for (const key of [
      'TickerQueueUrl',
      'TickerDlqUrl',
      'AnalysisQueueUrl',
      'AnalysisDlqUrl',
      'TickerDataTableName',
      'AnalysesTableName',
      'AlarmTopicArn',
    ]) {
      expect(outputs).toHaveProperty(key);
    }
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});
