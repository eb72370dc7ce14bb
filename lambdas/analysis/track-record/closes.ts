import type { ClosePair } from './evaluation';

/**
 * Closes of one ticker on two sessions, read from its `ticker-data` rows (pure). The rows are on
 * today's split basis (the refresh re-bases stored history when a split executes), so a split
 * between D and D+h does not show up as a return. A row counts for the session of its `asOf`
 * (`YYYY-MM-DD`, or an ISO instant from an old row: its date part) when `price` is a positive
 * number; anything else is no close.
 */
export function closesOf(
  rows: readonly Record<string, unknown>[],
  start: string,
  end: string,
): ClosePair {
  let pair: { start?: number; end?: number } = {};
  for (const row of rows) {
    const session = typeof row.asOf === 'string' ? row.asOf.slice(0, 10) : undefined;
    const price = row.price;
    if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0) continue;
    if (session === start) pair = { ...pair, start: price };
    if (session === end) pair = { ...pair, end: price };
  }
  return pair;
}
