import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AnalysisRow, ClaimRequest, ClaimResult, PortfolioRecord } from '../flows';

/** Options of {@link createAnalysisRepository}. */
export interface AnalysisRepositoryOptions {
  /** A plain DocumentClient (numbers as JS numbers). */
  readonly client: DynamoDBDocumentClient;
  readonly analysesTable: string;
  readonly stateTable: string;
  /** How long a finished claim keeps answering "already analysed", s. @default 30 days */
  readonly doneTtlSeconds?: number;
}

/** Timestamps tried after the first when a row with the same key already exists. */
const TIMESTAMP_COLLISION_RETRIES = 5;

/**
 * `portfolio-analyses-{stage}` rows and the analysis idempotency claims in the state table.
 *
 * A claim is the item `pk = analysis#<portfolioId>#<model>#<promptVersion>#<dataAsOf>` with
 * `status` `in-progress` (an attempt owns it until `leaseUntil`, its invocation's deadline) or
 * `done` (the analysis is stored as `analysisTimestamp`), and `expiresAt` for TTL. Claiming is
 * one conditional write, so of two concurrent attempts exactly one wins.
 */
export function createAnalysisRepository(opts: AnalysisRepositoryOptions) {
  const doneTtlSeconds = opts.doneTtlSeconds ?? 30 * 86_400;

  /**
   * Claims the key when it is free, when its owner's lease ran out (a crashed or timed-out
   * attempt), or, with `force`, when the analysis is done; otherwise reports who holds it.
   */
  async function claim(pk: string, req: ClaimRequest, attempt = 1): Promise<ClaimResult> {
    const condition = req.force
      ? 'attribute_not_exists(pk) OR #status = :done OR leaseUntil < :now'
      : 'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)';
    let previous: Record<string, unknown> | undefined;
    try {
      const out = await opts.client.send(
        new PutCommand({
          TableName: opts.stateTable,
          Item: {
            pk,
            kind: 'analysis-claim',
            status: 'in-progress',
            owner: req.owner,
            portfolioId: req.portfolioId,
            claimedAt: new Date(req.now).toISOString(),
            leaseUntil: req.leaseUntil,
            expiresAt: Math.ceil(req.leaseUntil / 1000) + 86_400,
          },
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': req.now,
            ...(req.force ? { ':done': 'done' } : { ':inProgress': 'in-progress' }),
          },
          // The replaced claim, if any, tells a fresh claim from a take-over.
          ReturnValues: 'ALL_OLD',
        }),
      );
      previous = out.Attributes;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const held = await getClaim(pk);
      if (!held && attempt < 3) return claim(pk, req, attempt + 1);
      if (!held) return { status: 'in-progress' };
      if (held.status === 'done') {
        return { status: 'done', analysisTimestamp: stringOrUndefined(held.analysisTimestamp) };
      }
      return {
        status: 'in-progress',
        claimedAt: stringOrUndefined(held.claimedAt),
        leaseUntil: typeof held.leaseUntil === 'number' ? held.leaseUntil : undefined,
      };
    }
    if (!previous) return { status: 'claimed' };
    return { status: 'claimed', tookOver: previous.status === 'done' ? 'forced' : 'stale' };
  }

  async function getClaim(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await opts.client.send(
      new GetCommand({ TableName: opts.stateTable, Key: { pk }, ConsistentRead: true }),
    );
    return out.Item;
  }

  /** Marks the owner's claim done, pointing at the stored row. */
  async function completeClaim(
    pk: string,
    owner: string,
    done: { analysisTimestamp: string; now: number },
  ): Promise<void> {
    await opts.client.send(
      new UpdateCommand({
        TableName: opts.stateTable,
        Key: { pk },
        UpdateExpression:
          'SET #status = :done, analysisTimestamp = :ts, completedAt = :at, expiresAt = :exp REMOVE leaseUntil',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':done': 'done',
          ':ts': done.analysisTimestamp,
          ':at': new Date(done.now).toISOString(),
          ':exp': Math.ceil(done.now / 1000) + doneTtlSeconds,
          ':owner': owner,
        },
      }),
    );
  }

  /** Deletes the owner's claim so a retry can run (a claim someone else took is left alone). */
  async function releaseClaim(pk: string, owner: string): Promise<void> {
    try {
      await opts.client.send(
        new DeleteCommand({
          TableName: opts.stateTable,
          Key: { pk },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Writes an analysis row, never over an existing one: if a row already has the same
   * timestamp, the next millisecond is tried. Returns the timestamp used.
   */
  async function putAnalysis(row: AnalysisRow): Promise<string> {
    let ms = Date.parse(row.timestamp);
    for (let attempt = 0; ; attempt++) {
      const timestamp = new Date(ms).toISOString();
      try {
        await opts.client.send(
          new PutCommand({
            TableName: opts.analysesTable,
            Item: { ...row, timestamp },
            ConditionExpression: 'attribute_not_exists(#ts)',
            ExpressionAttributeNames: { '#ts': 'timestamp' },
          }),
        );
        return timestamp;
      } catch (err) {
        if (
          !(err instanceof ConditionalCheckFailedException) ||
          attempt >= TIMESTAMP_COLLISION_RETRIES
        )
          throw err;
        ms += 1;
      }
    }
  }

  /** One analysis row. */
  async function getAnalysis(
    portfolioId: string,
    timestamp: string,
  ): Promise<Record<string, unknown> | undefined> {
    const out = await opts.client.send(
      new GetCommand({ TableName: opts.analysesTable, Key: { portfolio: portfolioId, timestamp } }),
    );
    return out.Item;
  }

  /** The newest analysis rows of a portfolio, newest first. */
  async function latestAnalyses(
    portfolioId: string,
    limit = 10,
  ): Promise<Record<string, unknown>[]> {
    const out = await opts.client.send(
      new QueryCommand({
        TableName: opts.analysesTable,
        KeyConditionExpression: 'portfolio = :p',
        ExpressionAttributeValues: { ':p': portfolioId },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []) as Record<string, unknown>[];
  }

  return {
    claim,
    getClaim,
    completeClaim,
    releaseClaim,
    putAnalysis,
    getAnalysis,
    latestAnalyses,
  };
}

/** The analysis repository. */
export type AnalysisRepository = ReturnType<typeof createAnalysisRepository>;

/** Options of {@link createPortfolioLookup}. */
export interface PortfolioLookupOptions {
  readonly client: DynamoDBDocumentClient;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  /** Index of positions by portfolio. @default 'PortfolioIdIndex' */
  readonly positionsByPortfolioIndex?: string;
}

/** The portfolio look-ups the analysis needs beyond the shared portfolio repository. */
export function createPortfolioLookup(opts: PortfolioLookupOptions) {
  const index = opts.positionsByPortfolioIndex ?? 'PortfolioIdIndex';

  /** A portfolio by id. */
  async function getPortfolio(id: string): Promise<PortfolioRecord | undefined> {
    const out = await opts.client.send(
      new GetCommand({ TableName: opts.portfoliosTable, Key: { id }, ConsistentRead: true }),
    );
    return out.Item ? toPortfolio(out.Item) : undefined;
  }

  /**
   * Every portfolio with exactly this name, any user, active or not (a paginated scan: names
   * are unique per user only, and UserNameIndex needs the user id).
   */
  async function findPortfoliosByName(name: string): Promise<PortfolioRecord[]> {
    const out: PortfolioRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await opts.client.send(
        new ScanCommand({
          TableName: opts.portfoliosTable,
          FilterExpression: '#n = :name',
          ProjectionExpression: 'id, userId, #n, isActive',
          ExpressionAttributeNames: { '#n': 'name' },
          ExpressionAttributeValues: { ':name': name },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(page.Items ?? []).map(toPortfolio));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /** Whether a portfolio has at least one position (one-item query). */
  async function hasPositions(portfolioId: string): Promise<boolean> {
    const out = await opts.client.send(
      new QueryCommand({
        TableName: opts.positionsTable,
        IndexName: index,
        KeyConditionExpression: 'portfolioId = :p',
        ExpressionAttributeValues: { ':p': portfolioId },
        ProjectionExpression: 'id',
        Limit: 1,
      }),
    );
    return (out.Items?.length ?? 0) > 0;
  }

  return { getPortfolio, findPortfoliosByName, hasPositions };
}

/** The portfolio look-ups. */
export type PortfolioLookup = ReturnType<typeof createPortfolioLookup>;

function toPortfolio(item: Record<string, unknown>): PortfolioRecord {
  return {
    id: String(item.id),
    name: stringOrUndefined(item.name),
    userId: stringOrUndefined(item.userId),
    isActive: typeof item.isActive === 'boolean' ? item.isActive : undefined,
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
