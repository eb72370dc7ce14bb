import type { Evaluation } from './evaluation';

/**
 * The track record of one model and prompt version over the trailing sessions (pure): the item
 * stored in `analysis-track-record-{stage}` each night. Definitions (issue 13):
 * - hitRate = Σhits / Σdecided (pooled over every analysis, absent when Σdecided = 0);
 * - meanIc over the k analyses with an IC; icStdErr = sd / √k (sample sd, absent when k < 2);
 *   icLow / icHigh = meanIc ∓ 1.96 × icStdErr;
 * - longMinusShort = mean excess return of scores ≥ 4 minus that of scores ≤ −4 (absent when
 *   either side is empty).
 */

/** Scores at or above this are "long" calls, at or below its negative "short" ones. */
export const LONG_SHORT_SCORE = 4;
/** z of a two-sided 95 % normal interval. */
export const Z_95 = 1.96;

/** An evaluated analysis as the aggregate needs it. */
export interface EvaluatedAnalysis {
  readonly portfolio: string;
  readonly timestamp: string;
  readonly model: string;
  readonly promptVersion: string;
  readonly dataAsOf: string;
  readonly evaluation: Evaluation;
}

/** One `analysis-track-record` item. */
export interface TrackRecordItem {
  /** `<model>#<promptVersion>` */
  readonly modelPrompt: string;
  /** The night's session, `YYYY-MM-DD`. */
  readonly asOf: string;
  readonly model: string;
  readonly promptVersion: string;
  /** Sessions in the window. */
  readonly window: number;
  readonly analyses: number;
  readonly scores: number;
  readonly decided: number;
  readonly hits: number;
  readonly hitRate?: number;
  readonly meanIc?: number;
  /** Analyses with an IC (k). */
  readonly icAnalyses: number;
  readonly icStdErr?: number;
  readonly icLow?: number;
  readonly icHigh?: number;
  readonly longMinusShort?: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/** Mean, standard error and 95 % interval of the per-analysis ICs. */
export function icSummary(ics: readonly number[]) {
  if (ics.length === 0) return {};
  const meanIc = mean(ics);
  if (ics.length < 2) return { meanIc };
  const variance = ics.reduce((s, v) => s + (v - meanIc) ** 2, 0) / (ics.length - 1);
  const icStdErr = Math.sqrt(variance) / Math.sqrt(ics.length);
  return { meanIc, icStdErr, icLow: meanIc - Z_95 * icStdErr, icHigh: meanIc + Z_95 * icStdErr };
}

/** Mean excess of the long calls minus that of the short calls, or undefined. */
export function longMinusShort(analyses: readonly EvaluatedAnalysis[]): number | undefined {
  const long: number[] = [];
  const short: number[] = [];
  for (const a of analyses) {
    for (const t of a.evaluation.tickers) {
      if (t.score >= LONG_SHORT_SCORE) long.push(t.excess);
      else if (t.score <= -LONG_SHORT_SCORE) short.push(t.excess);
    }
  }
  return long.length > 0 && short.length > 0 ? mean(long) - mean(short) : undefined;
}

/** The key of a model and prompt version. */
export const modelPromptKey = (model: string, promptVersion: string) => `${model}#${promptVersion}`;

/**
 * One item per (model, promptVersion) over the evaluations whose `evaluatedAt` is one of
 * `windowSessions` (the trailing sessions ending at `asOf`); sorted by key.
 */
export function aggregateTrackRecord(
  analyses: readonly EvaluatedAnalysis[],
  asOf: string,
  windowSessions: readonly string[],
): TrackRecordItem[] {
  const inWindow = new Set(windowSessions);
  const groups = new Map<string, EvaluatedAnalysis[]>();
  for (const a of analyses) {
    if (!inWindow.has(a.evaluation.evaluatedAt)) continue;
    const key = modelPromptKey(a.model, a.promptVersion);
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, group]) => groupItem(key, group, asOf, windowSessions.length));
}

function groupItem(
  modelPrompt: string,
  group: readonly EvaluatedAnalysis[],
  asOf: string,
  window: number,
): TrackRecordItem {
  const sum = (f: (e: Evaluation) => number) => group.reduce((s, a) => s + f(a.evaluation), 0);
  const decided = sum((e) => e.decided);
  const hits = sum((e) => e.hits);
  const ics = group.flatMap((a) => (a.evaluation.ic === undefined ? [] : [a.evaluation.ic]));
  const lms = longMinusShort(group);
  return {
    modelPrompt,
    asOf,
    model: group[0].model,
    promptVersion: group[0].promptVersion,
    window,
    analyses: group.length,
    scores: sum((e) => e.n),
    decided,
    hits,
    ...(decided > 0 ? { hitRate: hits / decided } : {}),
    icAnalyses: ics.length,
    ...icSummary(ics),
    ...(lms !== undefined ? { longMinusShort: lms } : {}),
  };
}
