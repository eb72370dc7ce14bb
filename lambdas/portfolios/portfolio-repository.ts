import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  NumberValue,
  QueryCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import { documentClient } from '../platform/aws-clients';
import { mapLimit } from '../platform/concurrency';
import { normaliseTicker } from '../platform/ticker';
import type { RepriceSummary } from '../market-data/refresh-job';
import {
  checkPortfolio,
  checkPosition,
  type InvalidRecord,
  type InvalidRecordSink,
  type Portfolio,
  type PositionItem,
} from './records';

export type { InvalidRecord, InvalidRecordSink, Portfolio, PositionItem } from './records';

export interface PortfolioRepositoryOptions {
  /** A DocumentClient that unmarshalls numbers as NumberValue (exact decimals). */
  readonly client: DynamoDBDocumentClient;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  /** Index of positions by portfolio (`PortfolioIdIndex`). */
  readonly positionsByPortfolioIndex?: string;
  readonly now?: () => number;
  readonly concurrency?: number;
  /**
   * Told of every portfolio or position item left out as unusable (see ./records.ts); the
   * wiring passes {@link reportInvalidRecords}, which counts and logs each.
   */
  readonly onInvalid: InvalidRecordSink;
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
    return out.Item ? this.usable(checkPortfolio(out.Item)) : undefined;
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
      for (const item of page.Items ?? []) {
        const position = this.usable(checkPosition(item));
        if (position) out.push(position);
      }
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
        const checked = checkPosition(fresh.Item);
        // Edited into an unusable item meanwhile: left alone (and reported) like any other.
        if (!checked.ok) return this.usable(checked) ?? 'moved';
        current = { ...position, shares: checked.value.shares, costBasis: checked.value.costBasis };
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
    const targets = holdings.flatMap((h) =>
      h.positions.flatMap((p) => {
        const price = prices.get(tickerOf(p));
        return price ? [{ p, price: price.price }] : [];
      }),
    );
    await mapLimit(targets, this.concurrency, async ({ p, price }) => {
      const result = await this.updatePrice(p, price);
      if (result === 'updated') summary.updated++;
      else if (result === 'deleted') summary.deleted++;
      else if (result === 'moved') summary.moved++;
      else summary.conflicts++;
    });
    return summary;
  }

  /** The item when it is usable; otherwise tells `onInvalid` and returns undefined. */
  private usable<T>(checked: { ok: true; value: T } | { ok: false; invalid: InvalidRecord }) {
    if (checked.ok) return checked.value;
    this.opts.onInvalid(checked.invalid);
    return undefined;
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
      for (const item of page.Items ?? []) {
        const portfolio = this.usable(checkPortfolio(item));
        if (portfolio) out.push(portfolio);
      }
    }
    return out;
  }
}

/** A checked position's ticker, normalised (checkPosition accepted it). */
function tickerOf(p: PositionItem): string {
  const t = normaliseTicker(p.ticker);
  return t.ok ? t.ticker : '';
}

/** The repository (the factory the wiring of both features calls). */
export function createPortfolioRepository(opts: PortfolioRepositoryOptions): PortfolioRepository {
  return new PortfolioRepository(opts);
}

/**
 * The repository every function's wiring uses: the shared tables on the exact-number
 * DocumentClient (positions' shares and cost basis never pass through a float).
 */
export function portfolioRepositoryFor(
  tables: { readonly portfoliosTable: string; readonly positionsTable: string },
  onInvalid: InvalidRecordSink,
): PortfolioRepository {
  return new PortfolioRepository({
    client: documentClient(true),
    portfoliosTable: tables.portfoliosTable,
    positionsTable: tables.positionsTable,
    onInvalid,
  });
}
