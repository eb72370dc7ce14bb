import { NumberValue, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import type { FlowObservability } from '../platform/metrics';
import { clip } from '../platform/text';
import { normaliseTicker } from '../platform/ticker';

/**
 * The edge of the tables portfolio-api owns: each portfolio and position item is checked here as
 * it is read, and an unusable one is set aside with the reason (counted and named by the caller's
 * reporter) instead of reaching the arithmetic, where one `new Big("n/a")` used to fail a whole
 * refresh job. Pure: no SDK calls.
 */

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
  /** As stored (the price update's condition compares it); `normaliseTicker` accepts it. */
  readonly ticker: string;
  readonly shares: string;
  readonly costBasis: string;
  readonly currentPrice?: string;
  readonly marketValue?: string;
  readonly unrealizedPL?: string;
}

/** An item left out because it cannot be used, and why. */
export interface InvalidRecord {
  readonly kind: 'portfolio' | 'position';
  /** The item's id as stored (clipped), or `(none)`. */
  readonly id: string;
  readonly portfolioId?: string;
  readonly reason: string;
}

/** Receives every item the repository leaves out. */
export type InvalidRecordSink = (record: InvalidRecord) => void;

/** An item as the DocumentClient returns it. */
type Item = Record<string, NativeAttributeValue>;

type Checked<T> = { ok: true; value: T } | { ok: false; invalid: InvalidRecord };

/** Echoed values are clipped to this many characters. */
const ECHO_MAX = 100;

const echo = (v: unknown): string =>
  v instanceof NumberValue ? v.value : clip(String(JSON.stringify(v)), ECHO_MAX);

const idOf = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : undefined;

/** A stored DynamoDB number as an exact decimal string; undefined for anything else. */
export function exactNumber(v: unknown): string | undefined {
  let text: string;
  if (v instanceof NumberValue) text = v.value;
  else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
  else return undefined;
  try {
    new Big(text);
    return text;
  } catch {
    return undefined;
  }
}

const optionalExact = (v: unknown): string | undefined =>
  v === undefined ? undefined : exactNumber(v);

/** A portfolio item, or why it cannot be used (no id). */
export function checkPortfolio(item: Item): Checked<Portfolio> {
  const id = idOf(item.id);
  if (id === undefined)
    return {
      ok: false,
      invalid: {
        kind: 'portfolio',
        id: '(none)',
        reason: `id ${echo(item.id)} is not a non-empty string`,
      },
    };
  return {
    ok: true,
    value: {
      id,
      name: typeof item.name === 'string' ? item.name : undefined,
      userId: typeof item.userId === 'string' ? item.userId : undefined,
      isActive: typeof item.isActive === 'boolean' ? item.isActive : undefined,
    },
  };
}

/** Why a position cannot be priced or analysed, or undefined when it can. */
function positionProblem(item: Item): string | undefined {
  const symbol = normaliseTicker(item.ticker);
  if (!symbol.ok) return `ticker ${symbol.reason}`;
  if (exactNumber(item.shares) === undefined)
    return `shares ${item.shares === undefined ? 'is missing' : `${echo(item.shares)} is not a number`}`;
  if (exactNumber(item.costBasis) === undefined)
    return `costBasis ${item.costBasis === undefined ? 'is missing' : `${echo(item.costBasis)} is not a number`}`;
  if (idOf(item.portfolioId) === undefined)
    return `portfolioId ${echo(item.portfolioId)} is not a non-empty string`;
  return undefined;
}

/**
 * A position item, or why it cannot be used: a ticker that is not a string or not a symbol, a
 * missing or non-numeric `shares` or `costBasis` (a DynamoDB number is required: the price
 * update's condition compares them as numbers), or no id.
 */
export function checkPosition(item: Item): Checked<PositionItem> {
  const id = idOf(item.id);
  const portfolioId = idOf(item.portfolioId);
  const problem =
    id === undefined ? `id ${echo(item.id)} is not a non-empty string` : positionProblem(item);
  if (problem !== undefined || id === undefined)
    return {
      ok: false,
      invalid: {
        kind: 'position',
        id: id ? clip(id, ECHO_MAX) : '(none)',
        portfolioId,
        reason: problem ?? 'no id',
      },
    };
  return {
    ok: true,
    value: {
      id,
      portfolioId: portfolioId as string,
      ticker: item.ticker as string,
      shares: exactNumber(item.shares) as string,
      costBasis: exactNumber(item.costBasis) as string,
      currentPrice: optionalExact(item.currentPrice),
      marketValue: optionalExact(item.marketValue),
      unrealizedPL: optionalExact(item.unrealizedPL),
    },
  };
}

/**
 * The reporter the wiring of every function passes to the repository: each item left out is
 * counted (`InvalidPositions` / `InvalidPortfolios`) and named in one WARN line with its id and
 * the reason, so the portfolio API's owners can fix it; it never fails the caller.
 */
export function reportInvalidRecords(
  obs: Pick<FlowObservability<'InvalidPositions' | 'InvalidPortfolios'>, 'count' | 'log'>,
): InvalidRecordSink {
  return (r) => {
    obs.count(r.kind === 'position' ? 'InvalidPositions' : 'InvalidPortfolios', 1);
    obs.log(
      'warn',
      r.kind === 'position'
        ? 'Position skipped: unusable item in portfolio-positions (fix it in the portfolio API)'
        : 'Portfolio skipped: unusable item in user-portfolios (fix it in the portfolio API)',
      r.kind === 'position'
        ? { positionId: r.id, portfolioId: r.portfolioId, reason: r.reason }
        : { portfolioId: r.id, reason: r.reason },
    );
  };
}
