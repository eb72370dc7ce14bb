import * as z from '../../platform/zod';
import { isTradingDay } from '../../market-data/domain/market-calendar';
import type { EvaluatedAnalysis } from './aggregate';

/**
 * A `portfolio-analyses` row as the track record reads it, checked at the edge: rows of the old
 * Python service (no `dataAsOf`, no `promptVersion`, no prices) are `legacy`; a row with an
 * `error` or a `parsed_data` that is not an array of valid scores is `invalid` (never evaluated);
 * an `evaluation` written earlier is read back (`evaluated`); everything else is `pending`.
 */

const SESSION = /^\d{4}-\d{2}-\d{2}$/;

const scoreEntry = z.object({
  ticker: z.string().check(z.minLength(1)),
  score: z.number().check(z.minimum(-10), z.maximum(10)),
  price: z.optional(z.number()),
});

const evaluatedTicker = z.object({
  ticker: z.string(),
  score: z.number(),
  return: z.number(),
  excess: z.number(),
});

const evaluationSchema = z.object({
  horizon: z.int().check(z.positive()),
  evaluatedAt: z.string().check(z.regex(SESSION)),
  benchmark: z.string(),
  benchmarkReturn: z.number(),
  n: z.int().check(z.nonnegative()),
  decided: z.int().check(z.nonnegative()),
  hits: z.int().check(z.nonnegative()),
  hitRate: z.optional(z.number()),
  ic: z.optional(z.number()),
  tickers: z.array(evaluatedTicker),
});

/** The attributes the track record reads (ProjectionExpression of the analyses query). */
export const ANALYSIS_ATTRIBUTES = [
  'portfolio',
  'timestamp',
  'model',
  'promptVersion',
  'dataAsOf',
  'parsed_data',
  'error',
  'evaluation',
] as const;

export interface AnalysisKey {
  readonly portfolio: string;
  readonly timestamp: string;
}

export type StoredAnalysis =
  | ({ readonly kind: 'legacy' | 'invalid'; readonly why: string } & Partial<AnalysisKey>)
  | ({ readonly kind: 'evaluated' } & EvaluatedAnalysis)
  | ({
      readonly kind: 'pending';
      readonly model: string;
      readonly promptVersion: string;
      readonly dataAsOf: string;
      readonly scores: readonly { ticker: string; score: number }[];
    } & AnalysisKey);

const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Classifies one raw row (see the module comment). */
export function readStoredAnalysis(row: Record<string, unknown>): StoredAnalysis {
  const portfolio = text(row.portfolio);
  const timestamp = text(row.timestamp);
  const model = text(row.model);
  const promptVersion = text(row.promptVersion);
  const dataAsOf = text(row.dataAsOf)?.slice(0, 10);
  if (!portfolio || !timestamp) return { kind: 'invalid', why: 'no key' };
  const key = { portfolio, timestamp };
  if (!dataAsOf || !SESSION.test(dataAsOf) || !isTradingDay(dataAsOf) || !model || !promptVersion)
    return { kind: 'legacy', why: 'no dataAsOf, model or promptVersion', ...key };
  if (row.error !== undefined) return { kind: 'invalid', why: 'failed analysis', ...key };
  const scores = parseScores(row.parsed_data);
  if (typeof scores === 'string') return { kind: 'invalid', why: scores, ...key };
  if (!scores.some((s) => s.price !== undefined))
    return { kind: 'legacy', why: 'no prices in parsed_data', ...key };
  const base = { ...key, model, promptVersion, dataAsOf };
  if (row.evaluation !== undefined) {
    const ev = evaluationSchema.safeParse(row.evaluation);
    if (!ev.success) return { kind: 'invalid', why: 'unreadable evaluation', ...key };
    return { kind: 'evaluated', ...base, evaluation: ev.data };
  }
  return {
    kind: 'pending',
    ...base,
    scores: scores.map((s) => ({ ticker: s.ticker, score: s.score })),
  };
}

/** The entries of `parsed_data`, or why they are not valid scores. */
function parseScores(parsedData: unknown): z.infer<typeof scoreEntry>[] | string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(String(parsedData));
  } catch {
    return 'parsed_data is not JSON';
  }
  const out = z.array(scoreEntry).check(z.minLength(1)).safeParse(decoded);
  return out.success ? out.data : 'parsed_data does not hold valid scores';
}
