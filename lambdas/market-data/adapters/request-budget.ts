import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
  /** Name of the budget (one per upstream key). @default 'polygon' */
  readonly name?: string;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * A request budget shared by every process of a stage: `limit` slot items in DynamoDB, each
 * holding the time it was last used. Taking a permit is a conditional write that claims a slot
 * whose last use is older than the window; with `limit` slots, no rolling window can ever hold
 * more than `limit` requests, whatever the number of concurrent invocations, redeliveries or
 * manual runs. (Hand-written: Powertools has no distributed rate limiter.)
 */
export function createRequestBudget(opts: RequestBudgetOptions) {
  const windowMs = (opts.windowMs ?? 60_000) + (opts.marginMs ?? 1_500);
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const name = opts.name ?? 'polygon';
  if (!Number.isInteger(opts.limit) || opts.limit < 1) {
    throw new Error(
      `The request budget must be a positive integer (POLYGON_REQUESTS_PER_MINUTE), got ${opts.limit}`,
    );
  }

  /** Claims a permit, or throws BudgetExhaustedError with the time until one frees up. */
  async function acquire(): Promise<void> {
    const start = Math.floor(random() * opts.limit);
    let earliestFree = Infinity;
    for (let k = 0; k < opts.limit; k++) {
      const slot = (start + k) % opts.limit;
      const t = now();
      try {
        await opts.client.send(
          new UpdateCommand({
            TableName: opts.tableName,
            Key: { pk: `budget#${name}#${slot}` },
            UpdateExpression: 'SET usedAt = :now, expiresAt = :expires',
            ConditionExpression: 'attribute_not_exists(usedAt) OR usedAt <= :cutoff',
            ExpressionAttributeValues: {
              ':now': t,
              ':cutoff': t - windowMs,
              ':expires': Math.floor(t / 1000) + 86_400,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        const usedAt = Number(
          (err.Item as { usedAt?: { N?: string } } | undefined)?.usedAt?.N ?? t,
        );
        earliestFree = Math.min(earliestFree, usedAt + windowMs - t);
      }
    }
    throw new BudgetExhaustedError(
      Math.max(1, Number.isFinite(earliestFree) ? earliestFree : windowMs),
    );
  }

  return { acquire, windowMs, limit: opts.limit };
}

export type RequestBudget = ReturnType<typeof createRequestBudget>;
