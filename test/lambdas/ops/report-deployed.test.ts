/**
 * `npm run report -- --stage dev`: the tables, queue attributes, CloudWatch metrics and alarms
 * of a deployed stage, against mocked DynamoDB, SQS and CloudWatch responses.
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../scripts/ops/report';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const cw = mockClient(CloudWatchClient);

/** Tuesday morning after Monday's session 2026-11-30. */
const NOW = Date.parse('2026-12-01T09:00:00Z');
const SESSION = '2026-11-30';

const clients = () => ({
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  sqs: new SQSClient({ region: 'us-east-1' }),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
});

const scores = (ticker: string) => JSON.stringify([{ ticker, score: 5, reason: 'ok' }]);

/** Two active portfolios; `failing`: NVDA stale and "Second" without an analysis. */
function tables(failing: boolean) {
  const rows: Record<string, Record<string, unknown>[]> = {
    AAPL: [{ ticker: 'AAPL', timestamp: 't1', asOf: SESSION, price: 200 }],
    NVDA: [{ ticker: 'NVDA', timestamp: 't2', asOf: failing ? '2026-11-27' : SESSION, price: 150 }],
    p1: [
      {
        portfolio: 'p1',
        timestamp: '2026-12-01T06:00:05Z',
        dataAsOf: SESSION,
        parsed_data: scores('AAPL'),
        costUsd: 0.0021,
        totalTokens: 1100,
      },
    ],
    p2: failing
      ? []
      : [
          {
            portfolio: 'p2',
            timestamp: '2026-12-01T06:00:07Z',
            dataAsOf: SESSION,
            parsed_data: scores('NVDA'),
            costUsd: 0.001,
            totalTokens: 900,
          },
        ],
  };
  ddb.on(ScanCommand, { TableName: 'user-portfolios-dev' }).resolves({
    Items: [
      { id: 'p1', name: 'First', userId: 'u1', isActive: true },
      { id: 'p2', name: 'Second', userId: 'u1' },
    ],
  });
  ddb.on(ScanCommand, { TableName: 'portfolio-positions-dev' }).resolves({
    Items: [
      { id: 'a', portfolioId: 'p1', ticker: 'AAPL', shares: 1, costBasis: 150, currentPrice: 200 },
      {
        id: 'b',
        portfolioId: 'p2',
        ticker: 'NVDA',
        shares: 2,
        costBasis: 200,
        currentPrice: failing ? 140 : 150,
      },
    ],
  });
  ddb
    .on(QueryCommand)
    .callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: rows[input.ExpressionAttributeValues[':v']] ?? [],
    }));
}

function queues(tickerDlq: number) {
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({
    QueueUrl: `https://sqs.us-east-1.amazonaws.com/123456789012/${input.QueueName}`,
  }));
  sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => ({
    Attributes: {
      ApproximateNumberOfMessages: input.QueueUrl.endsWith('ticker-processing-dlq-dev')
        ? String(tickerDlq)
        : '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  }));
}

/** Per-minute sums, newest first, over two pages. */
function metrics(alarms: string[]) {
  cw.on(GetMetricDataCommand)
    .resolvesOnce({
      MetricDataResults: [
        { Id: 'm_PolygonHttpRequests', Values: [1, 5] },
        { Id: 'm_AnalysesStored', Values: [1] },
        { Id: 'age_ticker', Values: [180, 60] },
      ],
      NextToken: 'more',
    })
    .resolvesOnce({
      MetricDataResults: [
        { Id: 'm_PolygonHttpRequests', Values: [3] },
        { Id: 'm_AnalysesStored', Values: [1] },
        { Id: 'm_PositionsUpdated', Values: [2] },
        { Id: 'm_SplitsApplied', Values: [] },
      ],
    });
  cw.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: alarms.map((AlarmName) => ({ AlarmName })),
  });
}

async function report(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => NOW,
    clients,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  cw.reset();
});

describe('npm run report -- --stage dev', () => {
  it('reports a complete night from tables, queues, metrics and alarms (exit 0)', async () => {
    // Prepare
    tables(false);
    queues(0);
    metrics([]);
    ddb.on(QueryCommand, { TableName: 'analysis-track-record-dev' }).resolves({
      Items: [
        {
          modelPrompt: 'grok-4.3#v1',
          asOf: '2026-11-27',
          analyses: 40,
          scores: 600,
          hitRate: 0.5432,
          meanIc: 0.041,
          icLow: -0.012,
          icHigh: 0.094,
        },
      ],
    });

    // Act
    const ran = await report(['--stage', 'dev']);

    // Assess
    expect(ran.err).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.out).toContain(
      'Track rec.  grok-4.3#v1 as of 2026-11-27: 40 analyses, 600 scores, hit rate 54.3 %, mean IC 0.041 [-0.012, 0.094]',
    );
    const trackQuery = ddb
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input)
      .find((i) => i.TableName === 'analysis-track-record-dev');
    expect(trackQuery).toMatchObject({
      ExpressionAttributeValues: { ':k': 'grok-4.3#v1' },
      ScanIndexForward: false,
      Limit: 1,
    });
    expect(ran.out).toContain(`Night of session ${SESSION} on stage dev: COMPLETE`);
    expect(ran.out).toContain('fresh 2/2; stale 0');
    expect(ran.out).toContain('Analyses    2/2 of this session (stored 2, already done 0)');
    expect(ran.out).toContain('xAI cost    $0.0031, 2000 tokens');
    expect(ran.out).toContain('Positions   repriced 2, skipped 0, invalid 0');
    expect(ran.out).toContain('ticker-processing-queue-dev: 0 waiting, oldest 3 min, DLQ 0');
    expect(ran.out).toContain('Alarms      none in ALARM');
    expect(ran.out).toContain('Polygon     9 call(s), at most 5 in any minute');

    const [first, second] = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(first.StartTime).toEqual(new Date('2026-11-30T20:00:00Z'));
    expect(first.EndTime).toEqual(new Date(NOW));
    expect(second.NextToken).toBe('more');
    expect(first.MetricDataQueries).toContainEqual(
      expect.objectContaining({
        Id: 'm_PolygonHttpRequests',
        MetricStat: expect.objectContaining({
          Metric: {
            Namespace: 'ZsmSevenBackendProcessing',
            MetricName: 'PolygonHttpRequests',
            Dimensions: [
              { Name: 'service', Value: 'backend-processing' },
              { Name: 'stage', Value: 'dev' },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        }),
      }),
    );
    expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toEqual({
      AlarmNamePrefix: 'backend-processing-dev',
      StateValue: 'ALARM',
      NextToken: undefined,
    });
  });

  it('exits 1 naming the stale ticker, the failed portfolio, the DLQ and the alarm', async () => {
    // Prepare
    tables(true);
    queues(2);
    metrics(['backend-processing-dev-ticker-dlq']);

    // Act
    const ran = await report(['--stage', 'dev', '--session', SESSION]);

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.out).toContain('Track rec.  none yet');
    expect(ran.out).toContain('NOT COMPLETE');
    expect(ran.out).toContain('stale 1: NVDA');
    expect(ran.out).toContain('failed 1: "Second" (p2)');
    expect(ran.out).toContain('- 2 message(s) in the ticker-processing DLQ');
    expect(ran.out).toContain('NVDA (newest row: 2026-11-27)');
    expect(ran.out).toContain('- alarm backend-processing-dev-ticker-dlq is in ALARM state');
    expect(ran.out).toContain('ticker-processing-queue-dev: 0 waiting, oldest 3 min, DLQ 2');
  });

  it('says in one line that the credentials have expired (exit 2)', async () => {
    // Prepare
    const expired = Object.assign(
      new Error('The security token included in the request is expired'),
      {
        name: 'ExpiredTokenException',
      },
    );
    sqs.on(GetQueueUrlCommand).rejects(expired);
    cw.on(GetMetricDataCommand).resolves({});
    cw.on(DescribeAlarmsCommand).resolves({});

    // Act
    const ran = await report(['--stage', 'prod']);

    // Assess
    expect(ran.code).toBe(2);
    expect(ran.err).toBe(
      'Cannot read the prod stage: the AWS session has expired or is invalid: refresh it (e.g. "aws sso login") and run again.',
    );
  });
});
