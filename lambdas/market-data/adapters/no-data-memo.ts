import { stateKeys } from '../../platform/state-keys';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchPutAll, type BatchRetryOptions } from '../../platform/dynamo';

export interface NoDataMemoOptions extends BatchRetryOptions {
  readonly client: DynamoDBDocumentClient;
  /** The service state table (`STATE_TABLE`, key `pk`, TTL attribute `expiresAt`). */
  readonly tableName: string;
  /** How long an entry lives; it only matters for its own session. @default 10 days */
  readonly ttlSeconds?: number;
  readonly now?: () => number;
}

const keyOf = stateKeys.noData;

/**
 * The no-data memo: one `nodata#<TICKER>` item per symbol in the state table, naming the latest
 * session for which a refresh found no data for it (unknown, delisted or untraded symbol). A
 * re-run of that session plans no Polygon call for the symbol; the next session plans it again,
 * and TTL removes entries nobody refreshes.
 */
export function createNoDataMemo(opts: NoDataMemoOptions) {
  const ttlSeconds = opts.ttlSeconds ?? 10 * 86_400;
  const now = opts.now ?? Date.now;

  /** The tickers recorded as having no data for `session` (expired entries excluded). */
  async function known(tickers: readonly string[], session: string): Promise<Set<string>> {
    const nowSeconds = Math.floor(now() / 1000);
    const items = await batchGetAll(
      opts.client,
      {
        tableName: opts.tableName,
        keys: [...new Set(tickers)].map((t) => ({ pk: keyOf(t) })),
        ProjectionExpression: 'ticker, #session, expiresAt',
        ExpressionAttributeNames: { '#session': 'session' },
      },
      { what: 'no-data memo keys' },
      opts,
    );
    const found = new Set<string>();
    for (const item of items) {
      // TTL deletion lags expiry by up to days, so an expired entry can still be read.
      const fresh = typeof item.expiresAt !== 'number' || item.expiresAt > nowSeconds;
      if (item.session === session && fresh && typeof item.ticker === 'string')
        found.add(item.ticker);
    }
    return found;
  }

  /** Records that `tickers` have no data for `session` (overwriting any older session). */
  async function record(tickers: readonly string[], session: string): Promise<void> {
    const at = now();
    const items = [...new Set(tickers)].map((ticker) => ({
      pk: keyOf(ticker),
      kind: 'no-data',
      ticker,
      session,
      recordedAt: new Date(at).toISOString(),
      expiresAt: Math.floor(at / 1000) + ttlSeconds,
    }));
    await batchPutAll(opts.client, opts.tableName, items, { what: 'no-data memo items' }, opts);
  }

  return { known, record };
}

export type NoDataMemo = ReturnType<typeof createNoDataMemo>;
