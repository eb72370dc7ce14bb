import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

export interface NoDataMemoOptions {
  readonly client: DynamoDBDocumentClient;
  /** The service state table (`STATE_TABLE`, key `pk`, TTL attribute `expiresAt`). */
  readonly tableName: string;
  /** How long an entry lives; it only matters for its own session. @default 10 days */
  readonly ttlSeconds?: number;
  /** Batch rounds before unprocessed keys or items are an error. @default 8 */
  readonly maxRounds?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** BatchGetItem takes at most 100 keys, BatchWriteItem 25 items. */
const GET_BATCH = 100;
const WRITE_BATCH = 25;

const keyOf = (ticker: string) => `nodata#${ticker}`;

/**
 * The no-data memo: one `nodata#<TICKER>` item per symbol in the state table, naming the latest
 * session for which a refresh found no data for it (unknown, delisted or untraded symbol). A
 * re-run of that session plans no Polygon call for the symbol; the next session plans it again,
 * and TTL removes entries nobody refreshes.
 */
export function createNoDataMemo(opts: NoDataMemoOptions) {
  const ttlSeconds = opts.ttlSeconds ?? 10 * 86_400;
  const maxRounds = opts.maxRounds ?? 8;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const backoff = (round: number) =>
    sleep(Math.min(5_000, 50 * 2 ** round) * (0.5 + Math.random() / 2));

  /** The tickers recorded as having no data for `session` (expired entries excluded). */
  async function known(tickers: readonly string[], session: string): Promise<Set<string>> {
    const found = new Set<string>();
    const nowSeconds = Math.floor(now() / 1000);
    const unique = [...new Set(tickers)];
    for (let i = 0; i < unique.length; i += GET_BATCH) {
      let keys: Record<string, unknown>[] = unique
        .slice(i, i + GET_BATCH)
        .map((t) => ({ pk: keyOf(t) }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= maxRounds)
          throw new Error(
            `${keys.length} no-data memo keys stayed unprocessed after ${maxRounds} BatchGet rounds`,
          );
        if (round > 0) await backoff(round);
        const out = await opts.client.send(
          new BatchGetCommand({
            RequestItems: {
              [opts.tableName]: {
                Keys: keys,
                ProjectionExpression: 'ticker, #session, expiresAt',
                ExpressionAttributeNames: { '#session': 'session' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[opts.tableName] ?? []) {
          // TTL deletion lags expiry by up to days, so an expired entry can still be read.
          const fresh = typeof item.expiresAt !== 'number' || item.expiresAt > nowSeconds;
          if (item.session === session && fresh && typeof item.ticker === 'string')
            found.add(item.ticker);
        }
        keys = out.UnprocessedKeys?.[opts.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  /** Records that `tickers` have no data for `session` (overwriting any older session). */
  async function record(tickers: readonly string[], session: string): Promise<void> {
    const at = now();
    const unique = [...new Set(tickers)];
    for (let i = 0; i < unique.length; i += WRITE_BATCH) {
      let pending: Record<string, unknown>[] = unique.slice(i, i + WRITE_BATCH).map((ticker) => ({
        PutRequest: {
          Item: {
            pk: keyOf(ticker),
            kind: 'no-data',
            ticker,
            session,
            recordedAt: new Date(at).toISOString(),
            expiresAt: Math.floor(at / 1000) + ttlSeconds,
          },
        },
      }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= maxRounds)
          throw new Error(
            `${pending.length} no-data memo items stayed unprocessed after ${maxRounds} BatchWrite rounds`,
          );
        if (round > 0) await backoff(round);
        const out = await opts.client.send(
          new BatchWriteCommand({ RequestItems: { [opts.tableName]: pending } }),
        );
        pending = out.UnprocessedItems?.[opts.tableName] ?? [];
      }
    }
  }

  return { known, record };
}

export type NoDataMemo = ReturnType<typeof createNoDataMemo>;
