import {
  BatchWriteCommand,
  paginatedBatchGet,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { fullJitterDelay } from './backoff';
import { mapLimit } from './concurrency';

/**
 * DynamoDB batch and query helpers shared by the repositories. The SDK re-sends a throttled
 * request, but not the `UnprocessedItems` a successful BatchWriteItem hands back, and its
 * `paginatedBatchGet` re-requests `UnprocessedKeys` without waiting: both are done here, once,
 * with full-jitter backoff (`backoff.ts`) between rounds and an error when items stay unprocessed.
 */

/** BatchGetItem takes at most 100 keys, BatchWriteItem 25 items. */
export const BATCH_GET_MAX = 100;
export const BATCH_WRITE_MAX = 25;

export interface BatchRetryOptions {
  /** Requests per batch before unprocessed items or keys are an error. @default 8 */
  readonly maxRounds?: number;
  /** Batches in flight at once (`batchPutAll`). @default 1 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Names the unprocessed things in the error: `${count} ${what} stayed unprocessed after …`. */
export interface BatchLabel {
  /** e.g. `ticker-data rows` */
  readonly what: string;
  /** Appended to the error message, e.g. `; the job will be retried`. */
  readonly note?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits before round `round` (from 1), or throws if `maxRounds` rounds are spent. */
function pacer(opts: BatchRetryOptions, label: BatchLabel, operation: string) {
  const maxRounds = opts.maxRounds ?? 8;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  return async (round: number, left: number): Promise<void> => {
    if (round >= maxRounds)
      throw new Error(
        `${left} ${label.what} stayed unprocessed after ${maxRounds} ${operation} rounds${label.note ?? ''}`,
      );
    await sleep(fullJitterDelay({ attempt: round, baseMs: 100, capMs: 5_000, random }));
  };
}

/**
 * Puts `items` into `tableName` in batches of 25 (`concurrency` at a time, default one after the
 * other), re-sending each
 * batch's `UnprocessedItems` until none are left; throws (nothing is dropped silently) when some
 * stay unprocessed after `maxRounds` requests. Returns the number of BatchWrite requests sent.
 */
export async function batchPutAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  label: BatchLabel,
  opts: BatchRetryOptions = {},
): Promise<number> {
  const pause = pacer(opts, label, 'BatchWrite');
  let requests = 0;
  const starts = Array.from({ length: Math.ceil(items.length / BATCH_WRITE_MAX) }, (_, k) => k);
  await mapLimit(starts, opts.concurrency ?? 1, async (k) => {
    let pending: Record<string, unknown>[] = items
      .slice(k * BATCH_WRITE_MAX, (k + 1) * BATCH_WRITE_MAX)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await pause(round, pending.length);
      requests++;
      const out = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = out.UnprocessedItems?.[tableName] ?? [];
    }
  });
  return requests;
}

/**
 * Gets the items of `keys` (100 per request) with the SDK's `paginatedBatchGet`, waiting before
 * each re-request of unprocessed keys and throwing when some stay unprocessed after `maxRounds`.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  request: { readonly tableName: string; readonly keys: readonly Record<string, unknown>[] } & Omit<
    NonNullable<Parameters<typeof paginatedBatchGet>[1]['RequestItems']>[string],
    'Keys'
  >,
  label: BatchLabel,
  opts: BatchRetryOptions = {},
): Promise<Record<string, unknown>[]> {
  const { tableName, keys, ...projection } = request;
  const pause = pacer(opts, label, 'BatchGet');
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    const input = {
      RequestItems: { [tableName]: { ...projection, Keys: keys.slice(i, i + BATCH_GET_MAX) } },
    };
    let round = 0;
    for await (const page of paginatedBatchGet({ client }, input)) {
      items.push(...(page.Responses?.[tableName] ?? []));
      const left = page.UnprocessedKeys?.[tableName]?.Keys?.length ?? 0;
      if (left > 0) await pause(++round, left);
    }
  }
  return items;
}

/**
 * The first `limit` items of a query, following pages with the SDK's `paginateQuery` (a page ends
 * at `limit` items or at 1 MB) and sending no request once `limit` items are read.
 */
export async function queryUpTo(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateQuery({ client, pageSize: limit }, { ...input })) {
    items.push(...(page.Items ?? []));
    if (items.length >= limit) break;
  }
  return items.slice(0, limit);
}
