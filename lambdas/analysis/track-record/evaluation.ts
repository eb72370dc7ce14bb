import { nextTradingDay } from '../../market-data/domain/market-calendar';

/**
 * The evaluation of one stored analysis once its horizon has passed (pure; issue 13, README
 * "Score track record"). For an analysis of session D and horizon h, with every close on today's
 * split basis (the `ticker-data` rows, which the splits step re-bases):
 *
 * - r_i = close_i(D+h) / close_i(D) − 1 for each scored ticker with both closes; b the same for
 *   the benchmark; e_i = r_i − b;
 * - n = number of such tickers; decided = score ≠ 0 and e ≠ 0; hits = decided and
 *   sign(score) = sign(e); hitRate = hits / decided (absent when decided = 0);
 * - ic = Spearman rank correlation of scores and e (Pearson of tie-averaged ranks), absent when
 *   n < 3 or either side has no variance.
 */

/** One scored ticker of an evaluation. */
export interface EvaluatedTicker {
  readonly ticker: string;
  readonly score: number;
  /** Forward return over the horizon, e.g. 0.05 = +5 %. */
  readonly return: number;
  /** Return minus the benchmark's return. */
  readonly excess: number;
}

/** The `evaluation` map stored on an analysis row. */
export interface Evaluation {
  readonly horizon: number;
  /** The session D+h, `YYYY-MM-DD`. */
  readonly evaluatedAt: string;
  readonly benchmark: string;
  readonly benchmarkReturn: number;
  readonly n: number;
  readonly decided: number;
  readonly hits: number;
  readonly hitRate?: number;
  readonly ic?: number;
  readonly tickers: EvaluatedTicker[];
}

/** Closes of one ticker on the two sessions (either may be missing). */
export interface ClosePair {
  readonly start?: number;
  readonly end?: number;
}

export interface EvaluationInput {
  readonly scores: readonly { readonly ticker: string; readonly score: number }[];
  readonly horizon: number;
  readonly evaluatedAt: string;
  readonly benchmark: string;
  /** Closes on D and D+h by ticker (the benchmark's included). */
  readonly closes: ReadonlyMap<string, ClosePair>;
}

/** Why an analysis cannot be evaluated yet. */
export type NotYet = { readonly ok: false; readonly reason: 'benchmark-missing' };

/** The forward return between two closes, or undefined when either is missing or not positive. */
export function forwardReturn(pair: ClosePair | undefined): number | undefined {
  if (pair?.start === undefined || pair.end === undefined) return undefined;
  if (!(pair.start > 0) || !(pair.end > 0)) return undefined;
  return pair.end / pair.start - 1;
}

/**
 * Evaluates one analysis. Tickers without a close on D or D+h are left out (n counts the rest);
 * without the benchmark's two closes nothing is evaluated (`benchmark-missing`: wait for it).
 */
export function evaluateAnalysis(
  input: EvaluationInput,
): { readonly ok: true; readonly evaluation: Evaluation } | NotYet {
  const b = forwardReturn(input.closes.get(input.benchmark));
  if (b === undefined) return { ok: false, reason: 'benchmark-missing' };
  const tickers: EvaluatedTicker[] = [];
  for (const { ticker, score } of input.scores) {
    const r = forwardReturn(input.closes.get(ticker));
    if (r === undefined) continue;
    tickers.push({ ticker, score, return: r, excess: r - b });
  }
  const decidedOnes = tickers.filter((t) => t.score !== 0 && t.excess !== 0);
  const hits = decidedOnes.filter((t) => Math.sign(t.score) === Math.sign(t.excess)).length;
  const ic = spearman(
    tickers.map((t) => t.score),
    tickers.map((t) => t.excess),
  );
  const evaluation: Evaluation = {
    horizon: input.horizon,
    evaluatedAt: input.evaluatedAt,
    benchmark: input.benchmark,
    benchmarkReturn: b,
    n: tickers.length,
    decided: decidedOnes.length,
    hits,
    ...(decidedOnes.length > 0 ? { hitRate: hits / decidedOnes.length } : {}),
    ...(ic !== undefined ? { ic } : {}),
    tickers,
  };
  return { ok: true, evaluation };
}

/**
 * Ranks 1…n, ascending, ties given the average of the ranks they span (e.g. [10, 20, 20, 30] →
 * [1, 2.5, 2.5, 4]).
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k].i] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Pearson correlation, or undefined when n < 2 or either side has no variance. */
export function pearson(x: readonly number[], y: readonly number[]): number | undefined {
  const n = x.length;
  if (n < 2 || y.length !== n) return undefined;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return undefined;
  // Clamp the last-bit rounding that can push a perfect correlation past ±1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rank correlation with tie-averaged ranks; undefined when n < 3 or no variance. */
export function spearman(x: readonly number[], y: readonly number[]): number | undefined {
  if (x.length < 3) return undefined;
  return pearson(averageRanks(x), averageRanks(y));
}

/** The h-th NYSE session after `dataAsOf`: the session an analysis is evaluated on. */
export function horizonSession(dataAsOf: string, horizon: number): string {
  let session = dataAsOf;
  for (let i = 0; i < horizon; i++) session = nextTradingDay(session);
  return session;
}
