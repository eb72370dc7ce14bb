import { stateKeys } from '../../platform/state-keys';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

const KEY = { pk: stateKeys.refreshMarker() };

/**
 * The newest session a market-data refresh completed for, kept in the state table so that the
 * freshness check can tell "refreshed" from "silently not run". Only ever moves forward.
 */
export function createRefreshMarker(opts: {
  client: DynamoDBDocumentClient;
  tableName: string;
  now?: () => number;
}) {
  const now = opts.now ?? Date.now;

  async function record(
    session: string,
    summary: { refreshed: number; noData: number },
  ): Promise<void> {
    try {
      await opts.client.send(
        new UpdateCommand({
          TableName: opts.tableName,
          Key: KEY,
          UpdateExpression: 'SET #s = :s, completedAt = :at, refreshed = :r, noData = :n',
          ConditionExpression: 'attribute_not_exists(#s) OR #s <= :s',
          ExpressionAttributeNames: { '#s': 'session' },
          ExpressionAttributeValues: {
            ':s': session,
            ':at': new Date(now()).toISOString(),
            ':r': summary.refreshed,
            ':n': summary.noData,
          },
        }),
      );
    } catch (err) {
      // A manual re-run of an older session must not move the marker back.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async function lastSession(): Promise<string | undefined> {
    const out = await opts.client.send(
      new GetCommand({ TableName: opts.tableName, Key: KEY, ConsistentRead: true }),
    );
    return typeof out.Item?.session === 'string' ? out.Item.session : undefined;
  }

  return { record, lastSession };
}
