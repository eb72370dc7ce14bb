import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MetricName } from '../../lambdas/platform/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/constructs/service-functions';
import { defaultLocalTableNames } from '../../sim/local-tables';
import { readNightReport } from '../lib/night-report';
import { getStageConfig } from '../../lib/config/stages';
import { currentTrackRecord } from '../lib/track-record-report';
import { buildMorningReport, type MorningReport, type NightCounters } from './morning-report';
import { QUEUES } from './redrive';

/** The clients a deployed stage's report reads through. */
export interface StageClients {
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly cloudwatch: CloudWatchClient;
}

/**
 * The night of a session: from 20:00 UTC of the session day (after the close) to 20:00 UTC the
 * next day, which holds the nightly schedules (04:30, 06:00, 09:15 UTC), or until now.
 */
export function nightWindow(session: string, nowMs: number): { start: Date; end: Date } {
  const start = Date.parse(`${session}T20:00:00Z`);
  return { start: new Date(start), end: new Date(Math.min(start + 24 * 3600_000, nowMs)) };
}

/** The business metrics the report sums over the night. */
const COUNTED = [
  'PolygonHttpRequests',
  'SplitsApplied',
  'PositionsUpdated',
  'PositionsSkipped',
  'InvalidPositions',
  'AnalysesStored',
  'AnalysesSkipped',
  'TickersWithoutData',
] as const satisfies readonly MetricName[];

type Counted = (typeof COUNTED)[number];

/** Depth of a queue and of its DLQ (every message, visible, in flight or delayed). */
async function queueDepth(sqs: SQSClient, name: string): Promise<number> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Per-minute sums of the business metrics and the queues' oldest-message age, all pages. */
async function nightMetrics(
  cloudwatch: CloudWatchClient,
  stage: string,
  window: { start: Date; end: Date },
): Promise<Map<string, number[]>> {
  const queries: MetricDataQuery[] = [
    ...COUNTED.map((name) => ({
      Id: `m_${name}`,
      MetricStat: {
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: name,
          Dimensions: [
            { Name: 'service', Value: SERVICE_NAME },
            { Name: 'stage', Value: stage },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
    })),
    ...Object.entries(QUEUES).map(([key, q]) => ({
      Id: `age_${key}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: `${q.queue}-${stage}` }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    })),
  ];
  const values = new Map<string, number[]>();
  let NextToken: string | undefined;
  do {
    const page = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: window.start,
        EndTime: window.end,
        ScanBy: 'TimestampDescending',
        NextToken,
      }),
    );
    for (const r of page.MetricDataResults ?? [])
      values.set(r.Id ?? '', [...(values.get(r.Id ?? '') ?? []), ...(r.Values ?? [])]);
    NextToken = page.NextToken;
  } while (NextToken);
  return values;
}

/** Names of the stage's alarms in ALARM state, all pages. */
async function alarmsFiring(cloudwatch: CloudWatchClient, stage: string): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: `backend-processing-${stage}`,
        StateValue: 'ALARM',
        NextToken,
      }),
    );
    for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])])
      if (a.AlarmName) names.push(a.AlarmName);
    NextToken = page.NextToken;
  } while (NextToken);
  return names.sort();
}

/**
 * The morning report of a deployed stage: its tables (through `doc`), the queue attributes,
 * the night's CloudWatch metrics (sums, and the busiest minute of Polygon calls) and its alarms.
 */
export async function deployedMorningReport(
  clients: StageClients,
  opts: { readonly stage: string; readonly session: string; readonly nowMs: number },
): Promise<MorningReport> {
  const { stage, session } = opts;
  const entries = Object.entries(QUEUES);
  const [depths, metrics, alarms] = await Promise.all([
    Promise.all(
      entries.map(async ([key, q]) => ({
        key,
        name: `${q.queue}-${stage}`,
        waiting: await queueDepth(clients.sqs, `${q.queue}-${stage}`),
        deadLetters: await queueDepth(clients.sqs, `${q.dlq}-${stage}`),
      })),
    ),
    nightMetrics(clients.cloudwatch, stage, nightWindow(session, opts.nowMs)),
    alarmsFiring(clients.cloudwatch, stage),
  ]);
  const series = (id: string) => metrics.get(id) ?? [];
  const sum = (name: Counted) => {
    const v = series(`m_${name}`);
    return v.length === 0 ? undefined : v.reduce((s, x) => s + x, 0);
  };
  const polygon = series('m_PolygonHttpRequests');
  const counters: NightCounters = {
    polygonCalls: sum('PolygonHttpRequests') ?? 0,
    polygonMaxPerMinute: polygon.length === 0 ? 0 : Math.max(...polygon),
    splitsApplied: sum('SplitsApplied') ?? 0,
    positionsRepriced: sum('PositionsUpdated') ?? 0,
    positionsSkipped: sum('PositionsSkipped') ?? 0,
    invalidPositions: sum('InvalidPositions') ?? 0,
    analysesStored: sum('AnalysesStored') ?? 0,
    analysesAlreadyDone: sum('AnalysesSkipped') ?? 0,
  };
  const depth = (key: string) => depths.find((d) => d.key === key)!;
  const night = await readNightReport({
    doc: clients.doc,
    names: defaultLocalTableNames(stage),
    session,
    noData: { count: sum('TickersWithoutData') ?? 0, named: new Set() },
    queueDepths: {
      tickers: { waiting: depth('ticker').waiting, deadLetters: depth('ticker').deadLetters },
      analysis: { waiting: depth('analysis').waiting, deadLetters: depth('analysis').deadLetters },
    },
  });
  const trackRecord = await currentTrackRecord(
    clients.doc,
    defaultLocalTableNames(stage).trackRecord,
    getStageConfig(stage).xaiModel,
  );
  return buildMorningReport({
    stage,
    night,
    counters,
    trackRecord,
    queues: depths.map((d) => {
      // The newest minute's maximum (results are newest first).
      const age = series(`age_${d.key}`)[0];
      return {
        name: d.name,
        waiting: d.waiting,
        deadLetters: d.deadLetters,
        oldestAgeSeconds: age,
      };
    }),
    alarms,
  });
}
