import { normaliseTicker } from '../../platform/events';

/** A position's ticker as found in the shared table, with where it came from. */
export interface HeldTicker {
  readonly raw: unknown;
  readonly portfolioId: string;
  readonly positionId: string;
}

export interface InvalidTicker {
  readonly raw: string;
  readonly reason: string;
  readonly portfolioId?: string;
  readonly positionId?: string;
}

export interface CollectedTickers {
  /** Distinct, normalised, sorted. */
  readonly tickers: string[];
  readonly invalid: InvalidTicker[];
  /** Positions seen (including those with invalid tickers). */
  readonly positions: number;
  /** Raw symbols that normalised onto another one (e.g. " nvda" → "NVDA"). */
  readonly merged: number;
}

/**
 * Normalises (trim, upper-case), validates and de-duplicates the tickers of held positions, plus
 * the `always` ones (the benchmark of the score track record), held or not.
 */
export function collectTickers(
  held: readonly HeldTicker[],
  always: readonly string[] = [],
): CollectedTickers {
  const set = new Set<string>();
  const invalid: InvalidTicker[] = [];
  let merged = 0;
  for (const h of held) {
    const t = normaliseTicker(h.raw);
    if (!t.ok) {
      invalid.push({
        raw: String(h.raw),
        reason: t.reason,
        portfolioId: h.portfolioId,
        positionId: h.positionId,
      });
      continue;
    }
    if (set.has(t.ticker)) merged++;
    set.add(t.ticker);
  }
  for (const t of always) set.add(t);
  return { tickers: [...set].sort(), invalid, positions: held.length, merged };
}

/** Splits tickers into jobs of at most `size` (one grouped-daily call serves a whole job). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  // A size below 1 would loop forever (or drop everything); it is a programming error.
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer (got ${size})`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
