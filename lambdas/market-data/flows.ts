import {
  chunk,
  collectTickers,
  type HeldTicker,
  type InvalidTicker,
} from './domain/collect-tickers';
import {
  InvalidEventError,
  normaliseTicker,
  type ProcessTickerEvent,
  type ProcessTickersEvent,
  type SqsRecordLike,
} from '../handlers/events';
import { latestCompletedSession } from './domain/market-calendar';
import {
  MAX_TICKERS_PER_JOB,
  refreshJobSchema,
  runRefreshJob,
  type RefreshJob,
  type RefreshJobDeps,
  type RefreshOutcome,
} from './refresh-job';

/** Counters the flows report (published as Powertools metrics by the handler's adapter). */
export type MarketMetric =
  | 'TickersFound'
  | 'TickersQueued'
  | 'InvalidTickers'
  | 'TickersRefreshed'
  | 'TickersAlreadyFresh'
  | 'TickersWithoutData'
  | 'PolygonRequests'
  | 'Deferrals'
  | 'PositionsUpdated'
  | 'PositionsSkipped'
  | 'MalformedMessages'
  | 'RefreshFailures';

export interface FlowObservability {
  readonly count: (metric: MarketMetric, value: number) => void;
  readonly log: RefreshJobDeps['log'];
  /** Tags every following log line with the run's id (carried from processTickers in each job). */
  readonly correlate: (runId: string) => void;
}

export interface ProcessTickersDeps extends FlowObservability {
  readonly heldTickers: () => Promise<HeldTicker[]>;
  readonly sendJobs: (
    jobs: RefreshJob[],
  ) => Promise<{ sent: number; failed: { index: number; reason: string }[] }>;
  readonly now: () => number;
  readonly newRunId: () => string;
}

export interface ProcessTickersResult {
  readonly runId: string;
  readonly session: string;
  readonly mode: 'nightly' | 'tickers';
  readonly positionsScanned: number;
  readonly tickersFound: number;
  readonly tickersQueued: number;
  readonly jobsQueued: number;
  readonly invalid: { readonly count: number; readonly examples: InvalidTicker[] };
  readonly duplicatesMerged: number;
}

/**
 * `processTickers`: collects the distinct tickers of active portfolios (or the given ones) and
 * queues refresh jobs of up to MAX_TICKERS_PER_JOB tickers for the latest completed session. A
 * job that cannot be queued fails the run (it never reports success having dropped work).
 */
export async function processTickersFlow(
  event: ProcessTickersEvent,
  deps: ProcessTickersDeps,
): Promise<ProcessTickersResult> {
  const session = latestCompletedSession(deps.now());
  let tickers: string[];
  let invalid: InvalidTicker[] = [];
  let positionsScanned = 0;
  let duplicatesMerged = 0;
  if (event.kind === 'tickers') {
    const results = event.tickers.map((raw) => ({ raw, r: normaliseTicker(raw) }));
    const bad = results.filter((x) => !x.r.ok).map((x) => (x.r as { reason: string }).reason);
    if (bad.length > 0)
      throw new InvalidEventError(
        `processTickers: ${bad.length} invalid ticker(s), nothing was queued: ${bad.join('; ')}`,
      );
    tickers = [...new Set(results.map((x) => (x.r as { ticker: string }).ticker))].sort();
  } else {
    const collected = collectTickers(await deps.heldTickers());
    tickers = collected.tickers;
    invalid = collected.invalid;
    positionsScanned = collected.positions;
    duplicatesMerged = collected.merged;
    if (invalid.length > 0) {
      deps.log('warn', 'Positions with invalid tickers were not refreshed', {
        count: invalid.length,
        examples: invalid.slice(0, 20),
      });
    }
  }
  const runId = deps.newRunId();
  deps.correlate(runId);
  const jobs: RefreshJob[] = chunk(tickers, MAX_TICKERS_PER_JOB).map((t) => ({
    v: 1,
    kind: 'refresh',
    runId,
    session,
    tickers: t,
    done: [],
    deferrals: 0,
  }));
  deps.count('TickersFound', tickers.length);
  deps.count('InvalidTickers', invalid.length);
  if (jobs.length > 0) {
    const { failed } = await deps.sendJobs(jobs);
    if (failed.length > 0) {
      const lost = failed.reduce((n, f) => n + jobs[f.index].tickers.length, 0);
      throw new Error(
        `processTickers: ${failed.length} of ${jobs.length} refresh jobs (${lost} tickers) could not be queued: ${failed.map((f) => f.reason).join('; ')}`,
      );
    }
  }
  deps.count('TickersQueued', tickers.length);
  const result: ProcessTickersResult = {
    runId,
    session,
    mode: event.kind,
    positionsScanned,
    tickersFound: tickers.length,
    tickersQueued: tickers.length,
    jobsQueued: jobs.length,
    invalid: { count: invalid.length, examples: invalid.slice(0, 20) },
    duplicatesMerged,
  };
  deps.log('info', 'Refresh queued', { ...result });
  return result;
}

export interface ProcessTickerDeps extends FlowObservability {
  /** Builds the job's dependencies for the current invocation (remaining time, clients). */
  readonly jobDeps: () => RefreshJobDeps;
  readonly now: () => number;
  readonly newRunId: () => string;
  /** Records that a refresh of `session` completed (read by the freshness check). */
  readonly recordRefreshed: (
    session: string,
    summary: { refreshed: number; noData: number },
  ) => Promise<void>;
}

export type ProcessTickerResult =
  { batchItemFailures: { itemIdentifier: string }[] } | RefreshOutcome;

/**
 * `processTicker`: an SQS batch runs one job per record and reports failed records as batch item
 * failures (malformed bodies are logged, counted and acknowledged: retrying cannot fix them);
 * a manual `{"ticker"}` runs the job inline and throws if it failed.
 */
export async function processTickerFlow(
  event: ProcessTickerEvent,
  deps: ProcessTickerDeps,
): Promise<ProcessTickerResult> {
  if (event.kind === 'manual') {
    const job: RefreshJob = {
      v: 1,
      kind: 'refresh',
      runId: deps.newRunId(),
      session: latestCompletedSession(deps.now()),
      tickers: event.tickers,
      done: [],
      deferrals: 0,
    };
    deps.correlate(job.runId);
    return runAndCount(job, deps);
  }
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.records) {
    const job = parseJob(record, deps);
    if (!job) continue;
    deps.correlate(job.runId);
    try {
      await runAndCount(job, deps);
    } catch (err) {
      deps.count('RefreshFailures', 1);
      deps.log('error', 'Refresh job failed; the message will be retried', {
        messageId: record.messageId,
        session: job.session,
        tickers: job.tickers.length,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function parseJob(record: SqsRecordLike, deps: FlowObservability): RefreshJob | undefined {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  const parsed = refreshJobSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  deps.count('MalformedMessages', 1);
  deps.log('error', 'Malformed ticker-processing message acknowledged without processing', {
    messageId: record.messageId,
    bytes: record.body.length,
    problem: parsed.error
      ? parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      : 'not JSON',
  });
  return undefined;
}

async function runAndCount(job: RefreshJob, deps: ProcessTickerDeps): Promise<RefreshOutcome> {
  const outcome = await runRefreshJob(job, deps.jobDeps());
  deps.count('PolygonRequests', outcome.polygonCalls);
  if (outcome.status === 'deferred') {
    deps.count('Deferrals', 1);
    return outcome;
  }
  await deps.recordRefreshed(outcome.session, {
    refreshed: outcome.refreshed.length + outcome.alreadyFresh,
    noData: outcome.noData.length,
  });
  deps.count('TickersRefreshed', outcome.refreshed.length);
  deps.count('TickersAlreadyFresh', outcome.alreadyFresh);
  deps.count('TickersWithoutData', outcome.noData.length);
  deps.count('PositionsUpdated', outcome.positions.updated);
  deps.count(
    'PositionsSkipped',
    outcome.positions.deleted + outcome.positions.moved + outcome.positions.conflicts,
  );
  deps.log('info', 'Refresh done', {
    session: outcome.session,
    strategy: outcome.strategy,
    refreshed: outcome.refreshed.length,
    alreadyFresh: outcome.alreadyFresh,
    noData: outcome.noData.length,
    noDataExamples: outcome.noData.slice(0, 50),
    polygonCalls: outcome.polygonCalls,
    rowsWritten: outcome.rowsWritten,
    positions: outcome.positions,
  });
  return outcome;
}
