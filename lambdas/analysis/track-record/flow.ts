import { tradingDaysBack } from '../../market-data/domain/market-calendar';
import { mapLimit } from '../../platform/concurrency';
import type { FlowObservability } from '../../platform/metrics';
import { aggregateTrackRecord, type EvaluatedAnalysis, type TrackRecordItem } from './aggregate';
import { closesOf } from './closes';
import { evaluateAnalysis, horizonSession, type ClosePair } from './evaluation';
import { readStoredAnalysis, type StoredAnalysis } from './stored-analysis';
import type { TrackRecordRepository } from './repositories';

/**
 * `evaluateAnalyses`: the nightly score track record (README "Score track record"). It reads the
 * analyses of the window (every page), evaluates those whose session D+h is refreshed and that
 * have none yet, then writes one aggregate item per model and prompt version for the night's
 * session. No Polygon call: every close comes from `ticker-data`. Idempotent: an evaluation is
 * written once (conditional update), the aggregate item has the night's key.
 */

/** Sessions in the aggregate's trailing window. */
export const TRACK_RECORD_WINDOW = 60;
/** Evaluations written per invocation at most; the rest waits for the next run. */
export const MAX_EVALUATIONS_PER_RUN = 2_000;
/** A run stops starting work when less than this is left of the invocation. */
export const STOP_MARGIN_MS = 60_000;
const CONCURRENCY = 8;

export interface TrackRecordDeps {
  readonly repo: Pick<
    TrackRecordRepository,
    'analysesSince' | 'tickerRows' | 'writeEvaluation' | 'putTrackRecord'
  >;
  /** The ids of the portfolios whose analyses are read (active portfolios). */
  readonly portfolioIds: () => Promise<string[]>;
  /** The newest session a refresh completed (the refresh marker). */
  readonly refreshedSession: () => Promise<string | undefined>;
  readonly obs: FlowObservability;
  /** Publishes an item's hit rate, IC and score count with dimensions model and prompt version. */
  readonly publish: (item: TrackRecordItem) => void;
  readonly remainingMs: () => number;
  readonly benchmark: string;
  readonly horizon: number;
  /** @default MAX_EVALUATIONS_PER_RUN */
  readonly maxEvaluations?: number;
}

export interface TrackRecordResult {
  readonly session?: string;
  /** False when the run stopped early: the next run continues (the aggregate waits for it). */
  readonly complete: boolean;
  readonly analysesRead: number;
  readonly evaluated: number;
  readonly alreadyEvaluated: number;
  /** Pending analyses whose D+h is not refreshed yet. */
  readonly notDue: number;
  /** Due analyses without the benchmark's closes (they wait). */
  readonly waitingForBenchmark: number;
  readonly legacy: number;
  readonly invalid: number;
  readonly items: TrackRecordItem[];
}

type Pending = Extract<StoredAnalysis, { kind: 'pending' }>;

export async function runTrackRecord(deps: TrackRecordDeps): Promise<TrackRecordResult> {
  const session = await deps.refreshedSession();
  const empty = { analysesRead: 0, evaluated: 0, alreadyEvaluated: 0, notDue: 0 };
  if (!session) {
    deps.obs.log('warn', 'No refreshed session yet: nothing to evaluate');
    return { ...empty, complete: true, waitingForBenchmark: 0, legacy: 0, invalid: 0, items: [] };
  }
  const window = tradingDaysBack(session, TRACK_RECORD_WINDOW);
  // The oldest analysis whose D+h can fall in the window; its row was written after D's close.
  const oldestD = tradingDaysBack(window[0], deps.horizon + 1)[0];
  const rows = await readWindow(deps, oldestD);
  const stored = rows.map(readStoredAnalysis);
  const done = stored.filter((s): s is Extract<StoredAnalysis, { kind: 'evaluated' }> => {
    return s.kind === 'evaluated';
  });
  const pending = stored.filter((s): s is Pending => s.kind === 'pending');
  const due = pending.filter((p) => horizonSession(p.dataAsOf, deps.horizon) <= session);
  const run = await evaluateDue(deps, due);
  const legacy = stored.filter((s) => s.kind === 'legacy').length;
  const invalid = stored.filter((s) => s.kind === 'invalid').length;
  deps.obs.count('AnalysesEvaluated', run.evaluated.length);
  deps.obs.count('AnalysesNotEvaluable', legacy + invalid);
  const items = run.complete
    ? await storeAggregate(deps, [...done, ...run.evaluated], session, window)
    : [];
  const result: TrackRecordResult = {
    session,
    complete: run.complete,
    analysesRead: rows.length,
    evaluated: run.written,
    alreadyEvaluated: done.length + run.evaluated.length - run.written,
    notDue: pending.length - due.length,
    waitingForBenchmark: run.waiting,
    legacy,
    invalid,
    items,
  };
  const { items: _items, ...summary } = result;
  deps.obs.log(run.complete ? 'info' : 'warn', 'Track record run', { ...summary });
  return result;
}

/** Every analysis of the portfolios written on or after session `oldestD`. */
async function readWindow(deps: TrackRecordDeps, oldestD: string) {
  const ids = await deps.portfolioIds();
  const pages = await mapLimit(ids, CONCURRENCY, (id) => deps.repo.analysesSince(id, oldestD));
  return pages.flat();
}

/** Evaluates and stores the due analyses, within the invocation's bounds. */
async function evaluateDue(deps: TrackRecordDeps, due: readonly Pending[]) {
  const max = deps.maxEvaluations ?? MAX_EVALUATIONS_PER_RUN;
  const batch = due.slice(0, max);
  const closes = await loadCloses(deps, batch);
  const evaluated: EvaluatedAnalysis[] = [];
  let written = 0;
  let waiting = 0;
  let stopped = batch.length < due.length;
  await mapLimit(batch, CONCURRENCY, async (a) => {
    if (deps.remainingMs() < STOP_MARGIN_MS) {
      stopped = true;
      return;
    }
    const evaluatedAt = horizonSession(a.dataAsOf, deps.horizon);
    const tickers = [deps.benchmark, ...a.scores.map((s) => s.ticker)];
    const out = evaluateAnalysis({
      scores: a.scores,
      horizon: deps.horizon,
      evaluatedAt,
      benchmark: deps.benchmark,
      closes: new Map(tickers.map((t) => [t, closes(t, a.dataAsOf, evaluatedAt)])),
    });
    if (!out.ok) {
      waiting++;
      return;
    }
    // A rerun or a concurrent run wrote the same evaluation (same closes): it counts once.
    if ((await deps.repo.writeEvaluation(a, out.evaluation)) === 'written') written++;
    evaluated.push({ ...a, evaluation: out.evaluation });
  });
  if (stopped)
    deps.obs.log('warn', 'Track record run stopped early; the next run continues', {
      due: due.length,
      evaluated: evaluated.length,
    });
  return { evaluated, written, waiting, complete: !stopped };
}

/** Reads, once per ticker, the rows covering every due analysis' D … D+h. */
async function loadCloses(deps: TrackRecordDeps, due: readonly Pending[]) {
  const spans = new Map<string, { from: string; to: string }>();
  for (const a of due) {
    const end = horizonSession(a.dataAsOf, deps.horizon);
    for (const t of [deps.benchmark, ...a.scores.map((s) => s.ticker)]) {
      const s = spans.get(t);
      spans.set(t, {
        from: s && s.from < a.dataAsOf ? s.from : a.dataAsOf,
        to: s && s.to > end ? s.to : end,
      });
    }
  }
  const entries = [...spans.entries()];
  const rows = await mapLimit(entries, CONCURRENCY, ([t, s]) =>
    deps.repo.tickerRows(t, s.from, s.to),
  );
  const byTicker = new Map(entries.map(([t], i) => [t, rows[i]]));
  return (ticker: string, start: string, end: string): ClosePair =>
    closesOf(byTicker.get(ticker) ?? [], start, end);
}

/** Writes and publishes one aggregate item per model and prompt version. */
async function storeAggregate(
  deps: TrackRecordDeps,
  analyses: readonly EvaluatedAnalysis[],
  session: string,
  window: readonly string[],
): Promise<TrackRecordItem[]> {
  const items = aggregateTrackRecord(analyses, session, window);
  for (const item of items) {
    await deps.repo.putTrackRecord(item);
    deps.publish(item);
  }
  return items;
}
