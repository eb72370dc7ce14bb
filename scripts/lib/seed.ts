import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NumberValue, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import { z } from 'zod';
import {
  latestCompletedSession,
  tradingDaysBack,
} from '../../lambdas/market-data/domain/market-calendar';
import { normaliseTicker } from '../../lambdas/platform/events';
import { syntheticAgg } from '../../sim/polygon-simulator';
import { repoRoot } from './bundles';
import { UsageError } from './functions';

/** The sample data `npm start` loads unless `--seed FILE` is given. */
export const DEFAULT_SEED_FILE = path.join(repoRoot, 'sim', 'seed', 'default.json');

const decimal = z
  .union([z.number(), z.string()])
  .transform((v) => String(v).trim())
  .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0, 'must be a positive decimal number');

const positionSchema = z
  .object({
    id: z.string().min(1).max(100).optional(),
    ticker: z.string().min(1).max(20),
    shares: decimal,
    costBasis: decimal.optional(),
    /** Instead of `costBasis`: bought this many sessions back at the Polygon simulator's close. */
    boughtSessionsAgo: z.number().int().min(1).max(2500).optional(),
    notes: z.string().max(1000).optional(),
  })
  .strict()
  .refine((p) => (p.costBasis === undefined) !== (p.boughtSessionsAgo === undefined), {
    message: 'give either costBasis or boughtSessionsAgo',
  });

const portfolioSchema = z
  .object({
    id: z.string().min(1).max(100),
    name: z.string().min(1).max(100),
    description: z.string().max(1000).optional(),
    isActive: z.boolean().optional(),
    isDefault: z.boolean().optional(),
    positions: z.array(positionSchema).default([]),
  })
  .strict();

const seedSchema = z
  .object({
    description: z.string().optional(),
    simulator: z
      .object({ unknownTickers: z.array(z.string().min(1).max(10)).default([]) })
      .strict()
      .default({ unknownTickers: [] }),
    users: z
      .array(
        z
          .object({
            id: z.string().min(1).max(100),
            displayName: z.string().optional(),
            portfolios: z.array(portfolioSchema).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

/** A seed file: users, their portfolios and positions, and what the Polygon simulator treats as unknown. */
export type Seed = z.output<typeof seedSchema>;

/** What seeding wrote. */
export interface SeedResult {
  readonly file: string;
  readonly users: number;
  readonly portfolios: number;
  readonly inactivePortfolios: number;
  readonly positions: number;
  /** Items written now. */
  readonly created: number;
  /** Items left alone because they already existed (a persisted `--data-dir`). */
  readonly existing: number;
}

/**
 * Reads and validates a seed file; every problem is a {@link UsageError} naming the file and the
 * path of the bad field.
 */
export function loadSeed(file: string): Seed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`Cannot read the seed file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 10)
      .map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`)
      .join('\n');
    throw new UsageError(
      `The seed file ${file} is not valid (format: sim/seed/README.md):\n${issues}`,
    );
  }
  const seed = parsed.data;
  const problems: string[] = [];
  const portfolioIds = new Set<string>();
  const positionIds = new Set<string>();
  for (const user of seed.users) {
    const names = new Set<string>();
    for (const p of user.portfolios) {
      if (portfolioIds.has(p.id)) problems.push(`portfolio id ${p.id} is used twice`);
      portfolioIds.add(p.id);
      if (names.has(p.name)) problems.push(`user ${user.id} has two portfolios named "${p.name}"`);
      names.add(p.name);
      p.positions.forEach((pos, i) => {
        const id = positionId(p.id, i, pos.id);
        if (positionIds.has(id)) problems.push(`position id ${id} is used twice`);
        positionIds.add(id);
      });
    }
  }
  if (problems.length > 0)
    throw new UsageError(`The seed file ${file} is not valid:\n  ${problems.join('\n  ')}`);
  return seed;
}

/** A position's id: the one given, else a stable UUID derived from the portfolio and index. */
export function positionId(portfolioId: string, index: number, given?: string): string {
  if (given) return given;
  const h = createHash('sha256').update(`${portfolioId}#${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The symbols a seed holds, normalised as the service does (invalid ones left out). */
export function seedTickers(seed: Seed): string[] {
  const tickers = new Set<string>();
  for (const user of seed.users)
    for (const p of user.portfolios)
      for (const pos of p.positions) {
        const t = normaliseTicker(pos.ticker);
        if (t.ok) tickers.add(t.ticker);
      }
  return [...tickers].sort();
}

/**
 * The cost basis of a seed position: the one given, or `shares` × the Polygon simulator's close
 * `boughtSessionsAgo` sessions before the latest completed session (its prices are a
 * deterministic walk per ticker and date), so that local P/L figures are plausible (a walk of
 * 1-3 % a day over a few months) and the same on every run of a day.
 */
export function seedCostBasis(
  pos: {
    readonly ticker: string;
    readonly shares: string;
    readonly costBasis?: string;
    readonly boughtSessionsAgo?: number;
  },
  now: Date,
): string {
  if (pos.costBasis !== undefined) return pos.costBasis;
  const session = latestCompletedSession(now.getTime());
  const bought = tradingDaysBack(session, (pos.boughtSessionsAgo ?? 0) + 1)[0];
  const close = syntheticAgg(pos.ticker.trim().toUpperCase(), bought).c;
  return new Big(pos.shares).times(close).round(2).toFixed(2);
}

/**
 * Writes the seed's portfolios and positions as portfolio-api stores them (exact decimal
 * numbers, ISO timestamps). Items that already exist are left alone, so a persisted data
 * directory continues from its previous run instead of being reset.
 */
export async function applySeed(
  doc: DynamoDBDocumentClient,
  tables: { readonly portfolios: string; readonly positions: string },
  seed: Seed,
  file: string,
  now = new Date(),
): Promise<SeedResult> {
  const at = now.toISOString();
  const items: { table: string; item: Record<string, unknown> }[] = [];
  let inactive = 0;
  for (const user of seed.users) {
    for (const p of user.portfolios) {
      if (p.isActive === false) inactive++;
      items.push({
        table: tables.portfolios,
        item: {
          id: p.id,
          userId: user.id,
          name: p.name,
          description: p.description,
          isActive: p.isActive,
          isDefault: p.isDefault ?? false,
          createdAt: at,
          updatedAt: at,
        },
      });
      p.positions.forEach((pos, i) => {
        const costBasis = seedCostBasis(pos, now);
        items.push({
          table: tables.positions,
          item: {
            id: positionId(p.id, i, pos.id),
            portfolioId: p.id,
            ticker: pos.ticker,
            shares: NumberValue.from(pos.shares),
            costBasis: NumberValue.from(costBasis),
            averageCost: NumberValue.from(new Big(costBasis).div(pos.shares).round(6).toFixed()),
            notes: pos.notes,
            createdAt: at,
            updatedAt: at,
          },
        });
      });
    }
  }
  let created = 0;
  await Promise.all(
    items.map(async ({ table, item }) => {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        );
        created++;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }),
  );
  const portfolios = seed.users.reduce((n, u) => n + u.portfolios.length, 0);
  return {
    file,
    users: seed.users.length,
    portfolios,
    inactivePortfolios: inactive,
    positions: items.length - portfolios,
    created,
    existing: items.length - created,
  };
}
