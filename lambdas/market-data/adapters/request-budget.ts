import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { stateKeys } from '../../platform/state-keys';
import { UpstreamError } from '../../platform/upstream-error';

/**
 * Thrown when no request permit is free; `retryAfterMs` says when the next one frees up. An
 * {@link UpstreamError} of kind `budget`, so the refresh job reads the kind off it like off a
 * PolygonError (same name and message as when it was a plain Error).
 */
export class BudgetExhaustedError extends UpstreamError<'budget'> {
  declare readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super(`Polygon request budget exhausted; next permit in ${Math.ceil(retryAfterMs / 1000)} s`, {
      kind: 'budget',
      name: 'BudgetExhaustedError',
      retryAfterMs,
    });
  }
}

export interface RequestBudgetOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Requests allowed in any rolling window (POLYGON_REQUESTS_PER_MINUTE). */
  readonly limit: number;
  /** Window length in ms. @default 60000 */
  readonly windowMs?: number;
  /** Added to the window to absorb clock skew between Lambda hosts and Polygon. @default 1500 */
  readonly marginMs?: number;
  /**
   * The upstream API key this budget is for: the item is `budget#<name>#<hash of the key>`
   * (state-keys.ts), so every process using the key, in any stage whose functions use the same
   * budget table, shares one budget, and a new key starts a new one. Never stored or logged.
   */
  readonly apiKey: string;
  /** The upstream. @default 'polygon' */
  readonly name?: string;
  readonly now?: () => number;
}

/** Raw attributes DynamoDB returns with a failed condition (ReturnValuesOnConditionCheckFailure). */
type RawItem = Record<string, { N?: string } | undefined> | undefined;

/** What one process knows of the budget item. */
interface BudgetView {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly key: { readonly pk: string };
  readonly limit: number;
  readonly windowMs: number;
  /** `seq` as last seen (undefined: not seen yet, or no item). */
  seq: number | undefined;
  /** Budget writes made (granted, refused or lost to another process), for the benchmark. */
  writes: number;
}

/** One conditional claim of permit `view.seq`; the item as it was when the condition failed. */
async function claim(
  view: BudgetView,
  t: number,
): Promise<{ ok: true } | { ok: false; item: RawItem }> {
  const { seq } = view;
  view.writes++;
  try {
    await view.client.send(
      new UpdateCommand({
        TableName: view.tableName,
        Key: view.key,
        UpdateExpression: 'SET #slot = :now, seq = :next, expiresAt = :expires',
        ConditionExpression: `${seq === undefined ? 'attribute_not_exists(seq)' : 'seq = :seq'} AND (attribute_not_exists(#slot) OR #slot <= :cutoff)`,
        ExpressionAttributeNames: { '#slot': `t${(seq ?? 0) % view.limit}` },
        ExpressionAttributeValues: {
          ':now': t,
          ':cutoff': t - view.windowMs,
          ':next': (seq ?? 0) + 1,
          ':expires': Math.floor(t / 1000) + 86_400,
          ...(seq === undefined ? {} : { ':seq': seq }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    view.seq = (seq ?? 0) + 1;
    return { ok: true };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    return { ok: false, item: err.Item ?? (await readItem(view)) };
  }
}

/**
 * The item, read when a failed condition came without it (DynamoDB always returns it; local
 * engines such as dynalite do not): a consistent read, in the raw shape of `err.Item`.
 */
async function readItem(view: BudgetView): Promise<RawItem> {
  const out = await view.client.send(
    new GetCommand({ TableName: view.tableName, Key: view.key, ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const raw: Record<string, { N: string }> = {};
  for (const [k, v] of Object.entries(out.Item))
    if (typeof v === 'number') raw[k] = { N: String(v) };
  return raw;
}

/**
 * A request budget shared by every process using one API key: one DynamoDB item holding the times of
 * the last `limit` permits as a ring (`t0`…`t{limit-1}`) and `seq`, the number of permits ever
 * granted. Permit number `seq` overwrites ring slot `seq % limit`, which holds permit
 * `seq - limit`; one conditional update grants it only if `seq` is still what this process last
 * saw and that older permit is older than the window. Permits are thus totally ordered and no
 * rolling window can hold more than `limit` of them, whatever the number of concurrent
 * invocations, redeliveries or manual runs. One write per permit, one per refusal, plus one when
 * another process moved `seq` meanwhile (the failed condition returns the item, so no read).
 * (Hand-written: Powertools has no distributed rate limiter.)
 */
export function createRequestBudget(opts: RequestBudgetOptions) {
  const windowMs = (opts.windowMs ?? 60_000) + (opts.marginMs ?? 1_500);
  const now = opts.now ?? Date.now;
  const limit = opts.limit;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(
      `The request budget must be a positive integer (POLYGON_REQUESTS_PER_MINUTE), got ${limit}`,
    );
  }
  const view: BudgetView = {
    client: opts.client,
    tableName: opts.tableName,
    key: { pk: stateKeys.budget(opts.name ?? 'polygon', opts.apiKey) },
    limit,
    windowMs,
    seq: undefined,
    writes: 0,
  };

  /** Claims a permit, or throws BudgetExhaustedError with the time until one frees up. */
  async function acquire(): Promise<void> {
    // Each lost race means another process got a permit: after `limit` of them the window is full.
    for (let attempt = 0; attempt <= limit; attempt++) {
      const t = now();
      const result = await claim(view, t);
      if (result.ok) return;
      const seen = result.item?.seq?.N;
      const current = seen === undefined ? undefined : Number(seen);
      if (current === view.seq && current !== undefined) {
        // Our view was current: the permit `limit` back is still inside the window.
        const usedAt = Number(result.item?.[`t${current % limit}`]?.N ?? t);
        throw new BudgetExhaustedError(Math.max(1, usedAt + windowMs - t));
      }
      view.seq = current;
    }
    throw new BudgetExhaustedError(1_000);
  }

  return { acquire, windowMs, limit, writes: () => view.writes };
}

export type RequestBudget = ReturnType<typeof createRequestBudget>;
