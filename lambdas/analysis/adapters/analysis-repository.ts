import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AnalysisRow, ClaimRequest, ClaimResult, FailureMark } from '../types';

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
export class AnalysisRepository {
  private readonly doneTtlSeconds: number;

  constructor(private readonly opts: AnalysisRepositoryOptions) {
    this.doneTtlSeconds = opts.doneTtlSeconds ?? 30 * 86_400;
  }

  /**
   * Claims the key when it is free, when its owner's lease ran out (a crashed or timed-out
   * attempt), or, with `force`, when the analysis is done; otherwise reports who holds it.
   */
  async claim(pk: string, req: ClaimRequest, attempt = 1): Promise<ClaimResult> {
    const condition = req.force
      ? 'attribute_not_exists(pk) OR #status = :done OR leaseUntil < :now'
      : 'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)';
    let previous: Record<string, unknown> | undefined;
    try {
      const out = await this.opts.client.send(
        new PutCommand({
          TableName: this.opts.stateTable,
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
      const held = await this.getClaim(pk);
      if (!held && attempt < 3) return this.claim(pk, req, attempt + 1);
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

  async getClaim(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.opts.client.send(
      new GetCommand({ TableName: this.opts.stateTable, Key: { pk }, ConsistentRead: true }),
    );
    return out.Item;
  }

  /** Marks the owner's claim done, pointing at the stored row. */
  async completeClaim(
    pk: string,
    owner: string,
    done: { analysisTimestamp: string; now: number },
  ): Promise<void> {
    await this.opts.client.send(
      new UpdateCommand({
        TableName: this.opts.stateTable,
        Key: { pk },
        UpdateExpression:
          'SET #status = :done, analysisTimestamp = :ts, completedAt = :at, expiresAt = :exp REMOVE leaseUntil',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':done': 'done',
          ':ts': done.analysisTimestamp,
          ':at': new Date(done.now).toISOString(),
          ':exp': Math.ceil(done.now / 1000) + this.doneTtlSeconds,
          ':owner': owner,
        },
      }),
    );
  }

  /** Deletes the owner's claim so a retry can run (a claim someone else took is left alone). */
  async releaseClaim(pk: string, owner: string): Promise<void> {
    try {
      await this.opts.client.send(
        new DeleteCommand({
          TableName: this.opts.stateTable,
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
   * Adds one failure to the mark `pk` (state table, TTL a day after `holdUntil`): kind and
   * message of the latest failure, the count of all. Returns the new count.
   */
  async markFailure(
    pk: string,
    mark: { kind: string; message: string; now: number; holdUntil: number },
  ): Promise<number> {
    const out = await this.opts.client.send(
      new UpdateCommand({
        TableName: this.opts.stateTable,
        Key: { pk },
        UpdateExpression:
          'SET #kind = :kind, failureKind = :failureKind, message = :message, markedAt = :at, ' +
          'holdUntil = :holdUntil, expiresAt = :exp ADD failures :one',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: {
          ':kind': 'failure-mark',
          ':failureKind': mark.kind,
          ':message': mark.message,
          ':at': new Date(mark.now).toISOString(),
          ':holdUntil': mark.holdUntil,
          ':exp': Math.ceil(mark.holdUntil / 1000) + 86_400,
          ':one': 1,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.failures ?? 1);
  }

  /** The failure mark `pk`, if any. */
  async failureMark(pk: string): Promise<FailureMark | undefined> {
    const item = await this.getClaim(pk);
    if (!item || item.kind !== 'failure-mark') return undefined;
    return {
      kind: stringOrUndefined(item.failureKind) ?? 'internal',
      message: stringOrUndefined(item.message) ?? '',
      count: Number(item.failures ?? 0),
      holdUntil: Number(item.holdUntil ?? 0),
    };
  }

  /**
   * Writes an analysis row, never over an existing one: if a row already has the same
   * timestamp, the next millisecond is tried. Returns the timestamp used.
   */
  async putAnalysis(row: AnalysisRow): Promise<string> {
    let ms = Date.parse(row.timestamp);
    for (let attempt = 0; ; attempt++) {
      const timestamp = new Date(ms).toISOString();
      try {
        await this.opts.client.send(
          new PutCommand({
            TableName: this.opts.analysesTable,
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
  async getAnalysis(
    portfolioId: string,
    timestamp: string,
  ): Promise<Record<string, unknown> | undefined> {
    const out = await this.opts.client.send(
      new GetCommand({
        TableName: this.opts.analysesTable,
        Key: { portfolio: portfolioId, timestamp },
      }),
    );
    return out.Item;
  }

  /** The newest analysis rows of a portfolio, newest first. */
  async latestAnalyses(portfolioId: string, limit = 10): Promise<Record<string, unknown>[]> {
    const out = await this.opts.client.send(
      new QueryCommand({
        TableName: this.opts.analysesTable,
        KeyConditionExpression: 'portfolio = :p',
        ExpressionAttributeValues: { ':p': portfolioId },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []) as Record<string, unknown>[];
  }
}

/** The repository (the factory the wiring calls). */
export function createAnalysisRepository(opts: AnalysisRepositoryOptions): AnalysisRepository {
  return new AnalysisRepository(opts);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
