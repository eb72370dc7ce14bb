import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  NumberValue,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import { mapLimit } from '../platform/concurrency';
import type { RepriceSummary } from '../market-data/refresh-job';

/** A portfolio as this service reads it from `user-portfolios-{stage}`. */
export interface PortfolioItem {
  readonly id: string;
  readonly userId?: string;
  readonly name?: string;
  readonly isActive?: boolean;
}

/** A position as read from `portfolio-positions-{stage}`, numbers as exact decimal strings. */
export interface PositionItem {
  readonly id: string;
  readonly portfolioId: string;
  readonly ticker: string;
  readonly shares: string;
  readonly costBasis: string;
  readonly currentPrice?: string;
  readonly marketValue?: string;
  readonly unrealizedPL?: string;
}

export interface PortfolioRepositoryOptions {
  /** A DocumentClient that unmarshalls numbers as NumberValue (exact decimals). */
  readonly client: DynamoDBDocumentClient;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  /** Index of positions by portfolio (`PortfolioIdIndex`). */
  readonly positionsByPortfolioIndex?: string;
  readonly now?: () => number;
  readonly concurrency?: number;
}

const exact = (v: unknown): string => {
  if (v instanceof NumberValue) return v.value;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v;
  return '';
};

/**
 * Reads the shared portfolio tables (every page of every scan and query) and writes the price
 * fields of positions with optimistic conditions: only existing items, only while the ticker,
 * shares and cost basis are what the new values were computed from.
 */
export function createPortfolioRepository(opts: PortfolioRepositoryOptions) {
  const index = opts.positionsByPortfolioIndex ?? 'PortfolioIdIndex';
  const now = opts.now ?? Date.now;
  const concurrency = opts.concurrency ?? 16;

  /** Every portfolio whose `isActive` is not false (missing means active). */
  async function activePortfolios(): Promise<PortfolioItem[]> {
    const out: PortfolioItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await opts.client.send(
        new ScanCommand({
          TableName: opts.portfoliosTable,
          ProjectionExpression: 'id, userId, #n, isActive',
          ExpressionAttributeNames: { '#n': 'name' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.isActive === false) continue;
        out.push({
          id: String(item.id),
          userId: item.userId as string | undefined,
          name: item.name as string | undefined,
          isActive: item.isActive as boolean | undefined,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /** Every position of one portfolio (all pages of the PortfolioIdIndex query). */
  async function positionsOf(portfolioId: string): Promise<PositionItem[]> {
    const out: PositionItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await opts.client.send(
        new QueryCommand({
          TableName: opts.positionsTable,
          IndexName: index,
          KeyConditionExpression: 'portfolioId = :p',
          ExpressionAttributeValues: { ':p': portfolioId },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({
          id: String(item.id),
          portfolioId: String(item.portfolioId),
          ticker: typeof item.ticker === 'string' ? item.ticker : String(item.ticker ?? ''),
          shares: exact(item.shares),
          costBasis: exact(item.costBasis),
          currentPrice: item.currentPrice === undefined ? undefined : exact(item.currentPrice),
          marketValue: item.marketValue === undefined ? undefined : exact(item.marketValue),
          unrealizedPL: item.unrealizedPL === undefined ? undefined : exact(item.unrealizedPL),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /** Positions of every active portfolio, grouped by portfolio. */
  async function activePositions(): Promise<
    { portfolio: PortfolioItem; positions: PositionItem[] }[]
  > {
    const portfolios = await activePortfolios();
    return mapLimit(portfolios, concurrency, async (portfolio) => ({
      portfolio,
      positions: await positionsOf(portfolio.id),
    }));
  }

  /**
   * Sets `currentPrice`, `marketValue` (= shares × price) and `unrealizedPL` (= marketValue −
   * costBasis) in exact decimal arithmetic, never rounded. On a conflicting edit it re-reads the
   * position and retries from the new values; a deleted position or one whose ticker changed is
   * left alone (never re-created).
   */
  async function updatePrice(
    position: PositionItem,
    price: number,
  ): Promise<'updated' | 'deleted' | 'moved' | 'conflict'> {
    let current: PositionItem | undefined = position;
    for (let attempt = 0; attempt < 4 && current; attempt++) {
      const marketValue = new Big(current.shares).times(new Big(String(price)));
      const unrealizedPL = marketValue.minus(new Big(current.costBasis));
      try {
        await opts.client.send(
          new UpdateCommand({
            TableName: opts.positionsTable,
            Key: { id: current.id },
            UpdateExpression:
              'SET currentPrice = :price, marketValue = :mv, unrealizedPL = :pl, updatedAt = :now',
            ConditionExpression:
              'attribute_exists(id) AND ticker = :ticker AND shares = :shares AND costBasis = :cost',
            ExpressionAttributeValues: {
              ':price': NumberValue.from(String(price)),
              ':mv': NumberValue.from(marketValue.toFixed()),
              ':pl': NumberValue.from(unrealizedPL.toFixed()),
              ':now': new Date(now()).toISOString(),
              ':ticker': position.ticker,
              ':shares': NumberValue.from(current.shares),
              ':cost': NumberValue.from(current.costBasis),
            },
          }),
        );
        return 'updated';
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        const fresh = await opts.client.send(
          new GetCommand({
            TableName: opts.positionsTable,
            Key: { id: position.id },
            ConsistentRead: true,
          }),
        );
        if (!fresh.Item) return 'deleted';
        if (fresh.Item.ticker !== position.ticker) return 'moved';
        current = {
          ...position,
          shares: exact(fresh.Item.shares),
          costBasis: exact(fresh.Item.costBasis),
        };
      }
    }
    return 'conflict';
  }

  /** Writes fresh prices onto every position of an active portfolio holding one of the tickers. */
  async function reprice(
    prices: ReadonlyMap<string, { price: number; asOf: string }>,
  ): Promise<RepriceSummary> {
    const summary = { updated: 0, deleted: 0, moved: 0, conflicts: 0 };
    if (prices.size === 0) return summary;
    const holdings = await activePositions();
    const targets = holdings
      .flatMap((h) => h.positions)
      .filter((p) => prices.has(p.ticker.trim().toUpperCase()));
    await mapLimit(targets, concurrency, async (p) => {
      const result = await updatePrice(p, prices.get(p.ticker.trim().toUpperCase())!.price);
      if (result === 'updated') summary.updated++;
      else if (result === 'deleted') summary.deleted++;
      else if (result === 'moved') summary.moved++;
      else summary.conflicts++;
    });
    return summary;
  }

  return { activePortfolios, positionsOf, activePositions, updatePrice, reprice };
}

export type PortfolioRepository = ReturnType<typeof createPortfolioRepository>;
