import { stateKeys } from '../../platform/state-keys';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../../platform/concurrency';
import { rowFromBar, type TickerDataRow } from '../domain/ticker-rows';

/**
 * The bars a deferred refresh job fetched, parked in the state table until its last invocation
 * merges them (instead of writing them to `ticker-data` raw and again with their indicators).
 * One gzip'd JSON blob per deferral, in items of at most CHUNK_BYTES: a 5,000-ticker grouped
 * invocation (25,000 bars) is about 0.4 MB, i.e. ~400 write units instead of 25,000 row writes.
 * The items expire by TTL (`expiresAt`, two days: a job gives up after ~12 h of deferrals), so
 * nothing deletes them. An id names one parked blob: `<random>.<chunks>`.
 */

/** Largest chunk stored in one item (DynamoDB's item limit is 400 KB, key and names included). */
const CHUNK_BYTES = 350_000;
const TTL_SECONDS = 2 * 86_400;
/** A parked id: random hex, a dot, the number of chunks. */
export const PARKED_ID = /^[0-9a-f]{8}\.[1-9][0-9]{0,2}$/;

/** A row as parked: [ticker, asOf, close, open, high, low, volume, vwap, trades, range?]. */
type Packed = [string, string, number, number?, number?, number?, number?, number?, number?, 1?];

interface Blob {
  readonly fetchedAt: string;
  readonly rows: Packed[];
}

function pack(rows: readonly TickerDataRow[]): Buffer {
  const fetchedAt = rows[0]?.fetchedAt ?? '';
  if (rows.some((r) => r.fetchedAt !== fetchedAt))
    throw new Error('Parked rows must share one fetchedAt (one invocation)');
  const packed = rows.map((r): Packed => [
    r.ticker,
    r.asOf,
    r.price,
    r.open,
    r.high,
    r.low,
    r.volume,
    r.vwap,
    r.trades,
    r.source === 'polygon-range' ? 1 : undefined,
  ]);
  return gzipSync(JSON.stringify({ fetchedAt, rows: packed } satisfies Blob));
}

function unpack(data: Buffer): TickerDataRow[] {
  const blob = JSON.parse(gunzipSync(data).toString('utf8')) as Blob;
  const opt = (n: number | null | undefined) => (n === null ? undefined : n);
  return blob.rows.map(([ticker, session, close, open, high, low, volume, vwap, trades, range]) =>
    rowFromBar(
      ticker,
      {
        ticker,
        session,
        close,
        open: opt(open) as number,
        high: opt(high) as number,
        low: opt(low) as number,
        volume: opt(volume) as number,
        vwap: opt(vwap),
        trades: opt(trades),
      },
      range === 1 ? 'polygon-range' : 'polygon-grouped',
      blob.fetchedAt,
    ),
  );
}

export function createParkedRows(opts: {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
}) {
  const now = opts.now ?? Date.now;
  const key = (jobKey: string, id: string, chunk: number) => ({
    pk: stateKeys.parked(jobKey, id.split('.')[0], chunk),
  });

  /** Parks rows fetched by one invocation; returns the id to keep in the job message. */
  async function park(jobKey: string, rows: readonly TickerDataRow[]): Promise<string> {
    const data = pack(rows);
    const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
    const id = `${randomBytes(4).toString('hex')}.${chunks}`;
    const expiresAt = Math.floor(now() / 1000) + TTL_SECONDS;
    await mapLimit(
      Array.from({ length: chunks }, (_, i) => i),
      4,
      (i) =>
        opts.client.send(
          new PutCommand({
            TableName: opts.tableName,
            Item: {
              ...key(jobKey, id, i),
              data: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
              expiresAt,
            },
          }),
        ),
    );
    return id;
  }

  /** The rows parked under `id` (consistent reads: the previous invocation just wrote them). */
  async function load(jobKey: string, id: string): Promise<TickerDataRow[]> {
    if (!PARKED_ID.test(id)) throw new Error(`Not a parked-rows id: ${id}`);
    const chunks = Number(id.split('.')[1]);
    const parts = await mapLimit(
      Array.from({ length: chunks }, (_, i) => i),
      4,
      async (i) => {
        const out = await opts.client.send(
          new GetCommand({
            TableName: opts.tableName,
            Key: key(jobKey, id, i),
            ConsistentRead: true,
          }),
        );
        const data = out.Item?.data as Uint8Array | undefined;
        if (!data) throw new Error(`Parked rows ${id} chunk ${i} of job ${jobKey} are missing`);
        return Buffer.from(data);
      },
    );
    return unpack(Buffer.concat(parts));
  }

  return { park, load };
}

export type ParkedRowsStore = ReturnType<typeof createParkedRows>;
