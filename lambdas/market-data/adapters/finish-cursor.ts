import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { stateKeys } from '../../platform/state-keys';

/**
 * The finishing cursor of a parked refresh job (one state-table item per job, `finish#<jobKey>`):
 * how many of the job's tickers, in message order, have every row written. The invocation that
 * writes a job's rows advances it after each chunk, with a conditional update from the value it
 * read, so a duplicate message finishing the same job at the same time loses the race after at
 * most one chunk instead of writing the whole job twice, and a redelivered invocation (killed
 * mid-finish) resumes at the last saved chunk. Expires by TTL like the parked rows.
 */

const TTL_SECONDS = 2 * 86_400;

export function createFinishCursor(opts: {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
}) {
  const now = opts.now ?? Date.now;

  /** Tickers written so far (0 when the job has not started finishing); a consistent read. */
  async function load(jobKey: string): Promise<number> {
    const out = await opts.client.send(
      new GetCommand({
        TableName: opts.tableName,
        Key: { pk: stateKeys.finish(jobKey) },
        ConsistentRead: true,
      }),
    );
    const next: unknown = out.Item?.next;
    // Validated at the edge: anything but a count is read as "nothing written" (rows rewritten
    // with the same values, never skipped).
    return typeof next === 'number' && Number.isInteger(next) && next >= 0 ? next : 0;
  }

  /**
   * Moves the cursor from `from` to `to`; false when it no longer says `from` (another
   * invocation of the same job moved it: this one must stop).
   */
  async function advance(jobKey: string, from: number, to: number): Promise<boolean> {
    try {
      await opts.client.send(
        new UpdateCommand({
          TableName: opts.tableName,
          Key: { pk: stateKeys.finish(jobKey) },
          UpdateExpression: 'SET #n = :to, expiresAt = :exp',
          ConditionExpression: from === 0 ? 'attribute_not_exists(#n) OR #n = :from' : '#n = :from',
          ExpressionAttributeNames: { '#n': 'next' },
          ExpressionAttributeValues: {
            ':from': from,
            ':to': to,
            ':exp': Math.floor(now() / 1000) + TTL_SECONDS,
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  return { load, advance };
}

export type FinishCursorStore = ReturnType<typeof createFinishCursor>;
