import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  NumberValue,
  QueryCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import { documentClient } from '../platform/aws-clients';
import { mapLimit } from '../platform/concurrency';
import type { RepriceSummary } from '../market-data/refresh-job';

/**
 * A portfolio as this service reads it from `user-portfolios-{stage}` (both features: the
 * market-data refresh and the analysis read it through this one repository).
 */
export interface Portfolio {
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

const optionalExact = (v: unknown): string | undefined => (v === undefined ? undefined : exact(v));

function toPortfolio(item: Record<string, unknown>): Portfolio {
  return {
    id: String(item.id),
    name: typeof item.name === 'string' ? item.name : undefined,
    userId: typeof item.userId === 'string' ? item.userId : undefined,
    isActive: typeof item.isActive === 'boolean' ? item.isActive : undefined,
  };
}

/** An item as the DocumentClient returns it (attribute values untyped, as before the split). */
type Item = Record<string, NativeAttributeValue>;

function toPosition(item: Item): PositionItem {
  return {
    id: String(item.id),
    portfolioId: String(item.portfolioId),
    ticker: typeof item.ticker === 'string' ? item.ticker : String(item.ticker ?? ''),
    shares: exact(item.shares),
    costBasis: exact(item.costBasis),
    currentPrice: optionalExact(item.currentPrice),
    marketValue: optionalExact(item.marketValue),
    unrealizedPL: optionalExact(item.unrealizedPL),
  };
}

/**
 * The one reader (and price writer) of the shared portfolio-api tables, for both features. Reads
 * go through the SDK's paginators (every page of every scan and query); the price fields of
 * positions are written with optimistic conditions: only existing items, only while the ticker,
 * shares and cost basis are what the new values were computed from. A class, so the flows' ports
 * are satisfied by the repository itself (no wrapper per method in the wiring).
 */
export class PortfolioRepository {
  private readonly index: string;
  private readonly now: () => number;
  private readonly concurrency: number;

  constructor(private readonly opts: PortfolioRepositoryOptions) {
    this.index = opts.positionsByPortfolioIndex ?? 'PortfolioIdIndex';
    this.now = opts.now ?? Date.now;
    this.concurrency = opts.concurrency ?? 16;
  }

  /** Every portfolio whose `isActive` is not false (missing means active). */
  async activePortfolios(): Promise<Portfolio[]> {
    return (await this.scanPortfolios()).filter((p) => p.isActive !== false);
  }

  /**
   * Every portfolio with exactly this name, any user, active or not (a scan: names are unique
   * per user only, and UserNameIndex needs the user id).
   */
  async findPortfoliosByName(name: string): Promise<Portfolio[]> {
    return this.scanPortfolios({
      FilterExpression: '#n = :name',
      ExpressionAttributeValues: { ':name': name },
    });
  }

  /** A portfolio by id (consistent read). */
  async getPortfolio(id: string): Promise<Portfolio | undefined> {
    const out = await this.opts.client.send(
      new GetCommand({ TableName: this.opts.portfoliosTable, Key: { id }, ConsistentRead: true }),
    );
    return out.Item ? toPortfolio(out.Item) : undefined;
  }

  /** Every position of one portfolio (all pages of the PortfolioIdIndex query). */
  async positionsOf(portfolioId: string): Promise<PositionItem[]> {
    const out: PositionItem[] = [];
    const input = {
      TableName: this.opts.positionsTable,
      IndexName: this.index,
      KeyConditionExpression: 'portfolioId = :p',
      ExpressionAttributeValues: { ':p': portfolioId },
    };
    for await (const page of paginateQuery({ client: this.opts.client }, input)) {
      out.push(...(page.Items ?? []).map(toPosition));
    }
    return out;
  }

  /** Whether a portfolio has at least one position (one-item query). */
  async hasPositions(portfolioId: string): Promise<boolean> {
    const out = await this.opts.client.send(
      new QueryCommand({
        TableName: this.opts.positionsTable,
        IndexName: this.index,
        KeyConditionExpression: 'portfolioId = :p',
        ExpressionAttributeValues: { ':p': portfolioId },
        ProjectionExpression: 'id',
        Limit: 1,
      }),
    );
    return (out.Items?.length ?? 0) > 0;
  }

  /** Positions of every active portfolio, grouped by portfolio. */
  async activePositions(): Promise<{ portfolio: Portfolio; positions: PositionItem[] }[]> {
    const portfolios = await this.activePortfolios();
    return mapLimit(portfolios, this.concurrency, async (portfolio) => ({
      portfolio,
      positions: await this.positionsOf(portfolio.id),
    }));
  }

  /**
   * Sets `currentPrice`, `marketValue` (= shares × price) and `unrealizedPL` (= marketValue −
   * costBasis) in exact decimal arithmetic, never rounded. On a conflicting edit it re-reads the
   * position and retries from the new values; a deleted position or one whose ticker changed is
   * left alone (never re-created).
   */
  async updatePrice(
    position: PositionItem,
    price: number,
  ): Promise<'updated' | 'deleted' | 'moved' | 'conflict'> {
    let current: PositionItem | undefined = position;
    for (let attempt = 0; attempt < 4 && current; attempt++) {
      const marketValue = new Big(current.shares).times(new Big(String(price)));
      const unrealizedPL = marketValue.minus(new Big(current.costBasis));
      try {
        await this.opts.client.send(
          new UpdateCommand({
            TableName: this.opts.positionsTable,
            Key: { id: current.id },
            UpdateExpression:
              'SET currentPrice = :price, marketValue = :mv, unrealizedPL = :pl, updatedAt = :now',
            ConditionExpression:
              'attribute_exists(id) AND ticker = :ticker AND shares = :shares AND costBasis = :cost',
            ExpressionAttributeValues: {
              ':price': NumberValue.from(String(price)),
              ':mv': NumberValue.from(marketValue.toFixed()),
              ':pl': NumberValue.from(unrealizedPL.toFixed()),
              ':now': new Date(this.now()).toISOString(),
              ':ticker': position.ticker,
              ':shares': NumberValue.from(current.shares),
              ':cost': NumberValue.from(current.costBasis),
            },
          }),
        );
        return 'updated';
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        const fresh = await this.opts.client.send(
          new GetCommand({
            TableName: this.opts.positionsTable,
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
  async reprice(
    prices: ReadonlyMap<string, { price: number; asOf: string }>,
  ): Promise<RepriceSummary> {
    const summary = { updated: 0, deleted: 0, moved: 0, conflicts: 0 };
    if (prices.size === 0) return summary;
    const holdings = await this.activePositions();
    const targets = holdings
      .flatMap((h) => h.positions)
      .filter((p) => prices.has(p.ticker.trim().toUpperCase()));
    await mapLimit(targets, this.concurrency, async (p) => {
      const result = await this.updatePrice(p, prices.get(p.ticker.trim().toUpperCase())!.price);
      if (result === 'updated') summary.updated++;
      else if (result === 'deleted') summary.deleted++;
      else if (result === 'moved') summary.moved++;
      else summary.conflicts++;
    });
    return summary;
  }

  /** The one scan of the portfolios table (all pages), optionally filtered by DynamoDB. */
  private async scanPortfolios(filter: Partial<ScanCommandInput> = {}): Promise<Portfolio[]> {
    const out: Portfolio[] = [];
    const input: ScanCommandInput = {
      TableName: this.opts.portfoliosTable,
      ProjectionExpression: 'id, userId, #n, isActive',
      ...filter,
      ExpressionAttributeNames: { '#n': 'name' },
    };
    for await (const page of paginateScan({ client: this.opts.client }, input)) {
      out.push(...(page.Items ?? []).map(toPortfolio));
    }
    return out;
  }
}

/** The repository (the factory the wiring of both features calls). */
export function createPortfolioRepository(opts: PortfolioRepositoryOptions): PortfolioRepository {
  return new PortfolioRepository(opts);
}

/**
 * The repository every function's wiring uses: the shared tables on the exact-number
 * DocumentClient (positions' shares and cost basis never pass through a float).
 */
export function portfolioRepositoryFor(tables: {
  readonly portfoliosTable: string;
  readonly positionsTable: string;
}): PortfolioRepository {
  return new PortfolioRepository({
    client: documentClient(true),
    portfoliosTable: tables.portfoliosTable,
    positionsTable: tables.positionsTable,
  });
}
