import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  paginateQuery,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { TrackRecordItem } from './aggregate';
import type { Evaluation } from './evaluation';
import { ANALYSIS_ATTRIBUTES, type AnalysisKey } from './stored-analysis';

/**
 * The track record's DynamoDB access: exactly the calls its grants allow (Query of analyses and
 * ticker-data, UpdateItem of `evaluation`, PutItem of the aggregate). Every page is read.
 */
export interface TrackRecordTables {
  readonly client: DynamoDBDocumentClient;
  readonly analysesTable: string;
  readonly tickerDataTable: string;
  readonly trackRecordTable: string;
}

const NAMES = Object.fromEntries(ANALYSIS_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));

/** Every item of a query, every page. */
async function queryAll(
  client: DynamoDBDocumentClient,
  input: Parameters<typeof paginateQuery>[1],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateQuery({ client }, input)) items.push(...(page.Items ?? []));
  return items;
}

/**
 * Sets `evaluation` on an existing row that has none: `exists-or-gone` when it already had one
 * (a rerun) or the row was deleted meanwhile (never re-created).
 */
async function writeEvaluation(
  t: TrackRecordTables,
  key: AnalysisKey,
  evaluation: Evaluation,
): Promise<'written' | 'exists-or-gone'> {
  try {
    await t.client.send(
      new UpdateCommand({
        TableName: t.analysesTable,
        Key: { portfolio: key.portfolio, timestamp: key.timestamp },
        UpdateExpression: 'SET evaluation = :e',
        ConditionExpression: 'attribute_exists(portfolio) AND attribute_not_exists(evaluation)',
        ExpressionAttributeValues: { ':e': evaluation },
      }),
    );
    return 'written';
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return 'exists-or-gone';
    throw err;
  }
}

export function createTrackRecordRepository(t: TrackRecordTables) {
  return {
    /** A portfolio's analyses written at or after `fromTimestamp`, only the attributes read. */
    analysesSince: (portfolio: string, fromTimestamp: string) =>
      queryAll(t.client, {
        TableName: t.analysesTable,
        KeyConditionExpression: '#a0 = :p AND #a1 >= :from',
        ProjectionExpression: Object.keys(NAMES).join(', '),
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':p': portfolio, ':from': fromTimestamp },
      }),
    /** A ticker's rows of the sessions `from` … `to` (`asOf` and `price` only). */
    tickerRows: (ticker: string, from: string, to: string) =>
      queryAll(t.client, {
        TableName: t.tickerDataTable,
        KeyConditionExpression: 'ticker = :t AND #ts BETWEEN :from AND :to',
        ProjectionExpression: 'asOf, price',
        ExpressionAttributeNames: { '#ts': 'timestamp' },
        // Session timestamps are `<date>T21:00:00.000Z` (old rows: other times of that date).
        ExpressionAttributeValues: { ':t': ticker, ':from': from, ':to': `${to}T23:59:59.999Z` },
      }),
    writeEvaluation: (key: AnalysisKey, evaluation: Evaluation) =>
      writeEvaluation(t, key, evaluation),
    /** Writes the night's aggregate item (same key on a rerun: replaced, not duplicated). */
    putTrackRecord: async (item: TrackRecordItem): Promise<void> => {
      await t.client.send(new PutCommand({ TableName: t.trackRecordTable, Item: { ...item } }));
    },
  };
}

export type TrackRecordRepository = ReturnType<typeof createTrackRecordRepository>;
