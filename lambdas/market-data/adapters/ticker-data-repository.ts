import {
  BatchWriteCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { TickerDataRow } from '../domain/ticker-rows';

export interface TickerDataRepositoryOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly sleep?: (ms: number) => Promise<void>;
  /** BatchWrite rounds before unprocessed items are an error. @default 8 */
  readonly maxRounds?: number;
}

/** Reads and writes `ticker-data-{stage}` rows. */
export function createTickerDataRepository(opts: TickerDataRepositoryOptions) {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRounds = opts.maxRounds ?? 8;

  /** The newest `limit` rows of a ticker, newest first (any writer's rows, old Python ones included). */
  async function latestRows(ticker: string, limit: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await opts.client.send(
        new QueryCommand({
          TableName: opts.tableName,
          KeyConditionExpression: 'ticker = :t',
          ExpressionAttributeValues: { ':t': ticker },
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /**
   * Writes rows in batches of 25, re-sending `UnprocessedItems` with exponential backoff; rows
   * still unprocessed after `maxRounds` make it throw (nothing is silently dropped).
   */
  async function putRows(rows: readonly TickerDataRow[]): Promise<{ writeRequests: number }> {
    let writeRequests = 0;
    for (let i = 0; i < rows.length; i += 25) {
      let pending = rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item: { ...Item } } }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= maxRounds) {
          throw new Error(
            `${pending.length} ticker-data rows stayed unprocessed after ${maxRounds} BatchWrite rounds (throttling); the job will be retried`,
          );
        }
        if (round > 0) await sleep(Math.min(5_000, 50 * 2 ** round) * (0.5 + Math.random() / 2));
        writeRequests++;
        const out = await opts.client.send(
          new BatchWriteCommand({ RequestItems: { [opts.tableName]: pending } }),
        );
        pending = (out.UnprocessedItems?.[opts.tableName] ?? []) as typeof pending;
      }
    }
    return { writeRequests };
  }

  return { latestRows, putRows };
}

export type TickerDataRepository = ReturnType<typeof createTickerDataRepository>;
