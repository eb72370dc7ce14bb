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

export function createTrackRecordRepository(t: TrackRecordTables) {
  const names = Object.fromEntries(ANALYSIS_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));

  /** A portfolio's analyses written at or after `fromTimestamp`, only the attributes read. */
  async function analysesSince(
    portfolio: string,
    fromTimestamp: string,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const input = {
      TableName: t.analysesTable,
      KeyConditionExpression: '#a0 = :p AND #a1 >= :from',
      ProjectionExpression: Object.keys(names).join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':p': portfolio, ':from': fromTimestamp },
    };
    for await (const page of paginateQuery({ client: t.client }, input))
      items.push(...(page.Items ?? []));
    return items;
  }

  /** A ticker's rows of the sessions `from` … `to` (`asOf` and `price` only). */
  async function tickerRows(
    ticker: string,
    from: string,
    to: string,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const input = {
      TableName: t.tickerDataTable,
      KeyConditionExpression: 'ticker = :t AND #ts BETWEEN :from AND :to',
      ProjectionExpression: 'asOf, price',
      ExpressionAttributeNames: { '#ts': 'timestamp' },
      // Session timestamps are `<date>T21:00:00.000Z` (old rows: other times of that date).
      ExpressionAttributeValues: { ':t': ticker, ':from': from, ':to': `${to}T23:59:59.999Z` },
    };
    for await (const page of paginateQuery({ client: t.client }, input))
      items.push(...(page.Items ?? []));
    return items;
  }

  /**
   * Sets `evaluation` on an existing row that has none: `exists` when it already had one (a
   * rerun), `gone` when the row was deleted meanwhile (never re-created).
   */
  async function writeEvaluation(
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

  /** Writes the night's aggregate item (same key on a rerun: replaced, not duplicated). */
  async function putTrackRecord(item: TrackRecordItem): Promise<void> {
    await t.client.send(new PutCommand({ TableName: t.trackRecordTable, Item: { ...item } }));
  }

  return { analysesSince, tickerRows, writeEvaluation, putTrackRecord };
}

export type TrackRecordRepository = ReturnType<typeof createTrackRecordRepository>;
