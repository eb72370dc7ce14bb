import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../../platform/concurrency';
import {
  BATCH_GET_MAX,
  batchGetAll,
  batchPutAll,
  queryUpTo,
  type BatchRetryOptions,
} from '../../platform/dynamo';
import type { TickerDataRow } from '../domain/ticker-rows';

export interface TickerDataRepositoryOptions extends BatchRetryOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Batch requests in flight at once for `rowsAt` and `putRows`: a night's 10,000 keys or 5,000
 * rows take 100 or 200 requests, which one after the other would be most of a steady night.
 */
export const BATCH_CONCURRENCY = 4;

/** Reads and writes `ticker-data-{stage}` rows. */
export function createTickerDataRepository(opts: TickerDataRepositoryOptions) {
  const batchOpts = { concurrency: BATCH_CONCURRENCY, ...opts };
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
    const chunks = Array.from({ length: Math.ceil(keys.length / BATCH_GET_MAX) }, (_, i) =>
      keys.slice(i * BATCH_GET_MAX, (i + 1) * BATCH_GET_MAX).map((k) => ({ ...k })),
    );
    const pages = await mapLimit(chunks, batchOpts.concurrency, (chunk) =>
      batchGetAll(
        opts.client,
        { tableName: opts.tableName, keys: chunk },
        { what: 'ticker-data keys', note: '; the job will be retried' },
        opts,
      ),
    );
    return pages.flat();
  }

  /**
   * Writes rows in batches of 25 (BATCH_CONCURRENCY at a time), re-sending `UnprocessedItems` with backoff; rows still
   * unprocessed after `maxRounds` make it throw (nothing is silently dropped).
   */
  async function putRows(rows: readonly TickerDataRow[]): Promise<{ writeRequests: number }> {
    const writeRequests = await batchPutAll(
      opts.client,
      opts.tableName,
      rows.map((row) => ({ ...row })),
      { what: 'ticker-data rows', note: ' (throttling); the job will be retried' },
      batchOpts,
    );
    return { writeRequests };
  }

  return { latestRows, rowsAt, putRows };
}

export type TickerDataRepository = ReturnType<typeof createTickerDataRepository>;
