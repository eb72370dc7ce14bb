import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { stateKeys } from '../../platform/state-keys';
import type { SpendAdmission } from '../types';

/** Options of {@link createSpendLedger}. */
export interface SpendLedgerOptions {
  /** A plain DocumentClient (numbers as JS numbers). */
  readonly client: DynamoDBDocumentClient;
  readonly stateTable: string;
}

/** How long a night's spend item is kept, s (a month of nights to look back on). */
const SPEND_TTL_SECONDS = 35 * 86_400;

/**
 * The night's xAI spend in the state table: one item per UTC day, `pk = spend#xai#<YYYY-MM-DD>`,
 * with `spentUsd` (the sum of every billed `costUsd` of the night), `admitted` (calls let
 * through) and, when an operator sets it, `capUsdTonight` (this night's cap instead of the
 * stage's). Both writes are single UpdateItems, so every concurrent invocation sees the others'.
 */
export class SpendLedger {
  constructor(private readonly opts: SpendLedgerOptions) {}

  /**
   * Lets one call through unless the night's spend has reached its cap: one conditional
   * `ADD admitted :one` whose condition is the cap check, so the check and the count are atomic.
   * The cap is the item's `capUsdTonight` when set, else `capUsd`.
   */
  async admit(night: string, capUsd: number, now: number): Promise<SpendAdmission> {
    const pk = stateKeys.spend('xai', night);
    try {
      await this.opts.client.send(
        new UpdateCommand({
          TableName: this.opts.stateTable,
          Key: { pk },
          UpdateExpression:
            'SET #kind = :kind, night = :night, expiresAt = if_not_exists(expiresAt, :exp) ADD admitted :one',
          ConditionExpression:
            'attribute_not_exists(spentUsd) OR ' +
            '(attribute_not_exists(capUsdTonight) AND spentUsd < :cap) OR ' +
            '(attribute_exists(capUsdTonight) AND spentUsd < capUsdTonight)',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: {
            ':kind': 'xai-spend',
            ':night': night,
            ':exp': Math.ceil(now / 1000) + SPEND_TTL_SECONDS,
            ':one': 1,
            ':cap': capUsd,
          },
        }),
      );
      return { admitted: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Read back for the message (local engines do not return the item with the refusal).
      const item = await this.spendItem(pk);
      const tonight = item?.capUsdTonight;
      return {
        admitted: false,
        spentUsd: Number(item?.spentUsd ?? 0),
        capUsd: typeof tonight === 'number' ? tonight : capUsd,
      };
    }
  }

  /** Adds a billed cost to the night's spend; returns the night's new total. */
  async addSpend(night: string, usd: number, now: number): Promise<number> {
    const out = await this.opts.client.send(
      new UpdateCommand({
        TableName: this.opts.stateTable,
        Key: { pk: stateKeys.spend('xai', night) },
        UpdateExpression:
          'SET #kind = :kind, night = :night, expiresAt = if_not_exists(expiresAt, :exp) ADD spentUsd :usd',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: {
          ':kind': 'xai-spend',
          ':night': night,
          ':exp': Math.ceil(now / 1000) + SPEND_TTL_SECONDS,
          ':usd': usd,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.spentUsd ?? usd);
  }

  /** The night's spend item as stored (reports and tests read it). */
  async nightSpend(
    night: string,
  ): Promise<{ spentUsd: number; admitted: number; capUsdTonight?: number }> {
    const item = await this.spendItem(stateKeys.spend('xai', night));
    const tonight = item?.capUsdTonight;
    return {
      spentUsd: Number(item?.spentUsd ?? 0),
      admitted: Number(item?.admitted ?? 0),
      ...(typeof tonight === 'number' ? { capUsdTonight: tonight } : {}),
    };
  }

  private async spendItem(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.opts.client.send(
      new GetCommand({ TableName: this.opts.stateTable, Key: { pk }, ConsistentRead: true }),
    );
    return out.Item;
  }
}

/** The ledger (the factory the wiring calls). */
export function createSpendLedger(opts: SpendLedgerOptions): SpendLedger {
  return new SpendLedger(opts);
}
