import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchPutAll, queryUpTo, type BatchRetryOptions } from '../../platform/dynamo';
import type { TickerDataRow } from '../domain/ticker-rows';

export interface TickerDataRepositoryOptions extends BatchRetryOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Reads and writes `ticker-data-{stage}` rows. */
export function createTickerDataRepository(opts: TickerDataRepositoryOptions) {
  /** The newest `limit` rows of a ticker, newest first (any writer's rows, old Python ones included). */
  async function latestRows(ticker: string, limit: number): Promise<Record<string, unknown>[]> {
    return queryUpTo(
      opts.client,
      {
        TableName: opts.tableName,
        KeyConditionExpression: 'ticker = :t',
        ExpressionAttributeValues: { ':t': ticker },
        ScanIndexForward: false,
      },
      limit,
    );
  }

  /**
   * The items at the given keys (BatchGetItem, 100 keys a request, unprocessed keys re-requested
   * with backoff), in no particular order; a key without an item is left out.
   */
  async function rowsAt(
    keys: readonly { readonly ticker: string; readonly timestamp: string }[],
  ): Promise<Record<string, unknown>[]> {
    return batchGetAll(
      opts.client,
      { tableName: opts.tableName, keys: keys.map((k) => ({ ...k })) },
      { what: 'ticker-data keys', note: '; the job will be retried' },
      opts,
    );
  }

  /**
   * Writes rows in batches of 25, re-sending `UnprocessedItems` with backoff; rows still
   * unprocessed after `maxRounds` make it throw (nothing is silently dropped).
   */
  async function putRows(rows: readonly TickerDataRow[]): Promise<{ writeRequests: number }> {
    const writeRequests = await batchPutAll(
      opts.client,
      opts.tableName,
      rows.map((row) => ({ ...row })),
      { what: 'ticker-data rows', note: ' (throttling); the job will be retried' },
      opts,
    );
    return { writeRequests };
  }

  return { latestRows, rowsAt, putRows };
}

export type TickerDataRepository = ReturnType<typeof createTickerDataRepository>;
