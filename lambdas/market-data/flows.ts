import { chunk, collectTickers, type InvalidTicker } from './domain/collect-tickers';
import {
  InvalidEventError,
  normaliseTicker,
  type ProcessTickerEvent,
  type ProcessTickersEvent,
} from '../platform/events';
import { latestCompletedSession } from './domain/market-calendar';
import { processQueueBatch, type BatchResult } from '../platform/sqs-batch';
import { errorText } from '../platform/text';
import * as z from '../platform/zod';
import type { HeldPositions, JobSender, Observability, RefreshMarker } from './ports';
import {
  MAX_TICKERS_PER_JOB,
  refreshJobSchema,
  runRefreshJob,
  type RefreshJob,
  type RefreshJobDeps,
  type RefreshOutcome,
} from './refresh-job';

export interface ProcessTickersDeps {
  readonly holdings: HeldPositions;
  readonly queue: JobSender;
  readonly obs: Observability;
  readonly now: () => number;
  readonly newRunId: () => string;
  /** Refreshed every night like a held ticker (the track record's benchmark, e.g. `SPY`). */
  readonly benchmarkTicker?: string;
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
  const found = event.kind === 'tickers' ? givenTickers(event.tickers) : await heldTickers(deps);
  const { tickers, invalid } = found;
  const runId = deps.newRunId();
  deps.obs.correlate(runId);
  const jobs: RefreshJob[] = chunk(tickers, MAX_TICKERS_PER_JOB).map((t) => ({
    v: 1,
    kind: 'refresh',
    runId,
    session,
    tickers: t,
    done: [],
    deferrals: 0,
  }));
  deps.obs.count('TickersFound', tickers.length);
  deps.obs.count('InvalidTickers', invalid.length);
  await queueJobs(jobs, deps.queue);
  deps.obs.count('TickersQueued', tickers.length);
  const result: ProcessTickersResult = {
    runId,
    session,
    mode: event.kind,
    positionsScanned: found.positionsScanned,
    tickersFound: tickers.length,
    tickersQueued: tickers.length,
    jobsQueued: jobs.length,
    invalid: { count: invalid.length, examples: invalid.slice(0, 20) },
    duplicatesMerged: found.duplicatesMerged,
  };
  deps.obs.log('info', 'Refresh queued', { ...result });
  return result;
}

interface FoundTickers {
  readonly tickers: string[];
  readonly invalid: InvalidTicker[];
  readonly positionsScanned: number;
  readonly duplicatesMerged: number;
}

/** A manual run's tickers, normalised; one invalid symbol fails the run before anything is queued. */
function givenTickers(raw: readonly string[]): FoundTickers {
  const results = raw.map((r) => normaliseTicker(r));
  const bad = results.flatMap((r) => (r.ok ? [] : [r.reason]));
  if (bad.length > 0)
    throw new InvalidEventError(
      `processTickers: ${bad.length} invalid ticker(s), nothing was queued: ${bad.join('; ')}`,
    );
  const tickers = [...new Set(results.flatMap((r) => (r.ok ? [r.ticker] : [])))].sort();
  return { tickers, invalid: [], positionsScanned: 0, duplicatesMerged: 0 };
}

/** The nightly run's tickers: those of the positions of active portfolios. */
async function heldTickers(
  deps: Pick<ProcessTickersDeps, 'holdings' | 'obs' | 'benchmarkTicker'>,
): Promise<FoundTickers> {
  const held = (await deps.holdings.activePositions()).flatMap(({ positions }) =>
    positions.map((p) => ({ raw: p.ticker, portfolioId: p.portfolioId, positionId: p.id })),
  );
  const collected = collectTickers(held, deps.benchmarkTicker ? [deps.benchmarkTicker] : []);
  if (collected.invalid.length > 0) {
    deps.obs.log('warn', 'Positions with invalid tickers were not refreshed', {
      count: collected.invalid.length,
      examples: collected.invalid.slice(0, 20),
    });
  }
  return {
    tickers: collected.tickers,
    invalid: collected.invalid,
    positionsScanned: collected.positions,
    duplicatesMerged: collected.merged,
  };
}

/** Sends `jobs`; throws, naming the lost tickers, if any could not be queued. */
async function queueJobs(jobs: RefreshJob[], queue: JobSender): Promise<void> {
  if (jobs.length === 0) return;
  const { failed } = await queue.sendAll(jobs);
  if (failed.length === 0) return;
  const lost = failed.reduce((n, f) => n + jobs[f.index].tickers.length, 0);
  throw new Error(
    `processTickers: ${failed.length} of ${jobs.length} refresh jobs (${lost} tickers) could not be queued: ${failed.map((f) => f.reason).join('; ')}`,
  );
}

export interface ProcessTickerDeps {
  /** The refresh job's ports, bound to the current invocation (remaining time). */
  readonly job: RefreshJobDeps;
  readonly marker: RefreshMarker;
  readonly obs: Observability;
  readonly newRunId: () => string;
}

export type ProcessTickerResult = BatchResult | RefreshOutcome;

/**
 * `processTicker`: an SQS batch runs one job per record and reports failed records as batch item
 * failures (malformed bodies are logged, counted and acknowledged: retrying cannot fix them);
 * a manual `{"ticker"}` runs the job inline and throws if it failed.
 */
export async function processTickerFlow(
  event: ProcessTickerEvent,
  deps: ProcessTickerDeps,
): Promise<ProcessTickerResult> {
  const { obs } = deps;
  if (event.kind === 'manual') {
    const job: RefreshJob = {
      v: 1,
      kind: 'refresh',
      runId: deps.newRunId(),
      session: latestCompletedSession(deps.job.runtime.now()),
      tickers: event.tickers,
      done: [],
      deferrals: 0,
    };
    obs.correlate(job.runId);
    return runAndCount(job, deps);
  }
  return processQueueBatch(event.records, {
    // A session after the latest completed one could only defer until MAX_DEFERRALS: malformed too.
    schema: refreshJobSchema.check(
      z.refine((job) => job.session <= latestCompletedSession(deps.job.runtime.now()), {
        message: 'is after the latest completed session (not yet traded)',
        path: ['session'],
      }),
    ),
    malformed: (record, problem) => {
      obs.count('MalformedMessages', 1);
      obs.log('error', 'Malformed ticker-processing message acknowledged without processing', {
        messageId: record.messageId,
        bytes: record.body.length,
        problem,
      });
    },
    process: (job) => {
      obs.correlate(job.runId);
      return runAndCount(job, deps);
    },
    failed: (err, job, record) => {
      obs.count('RefreshFailures', 1);
      obs.log('error', 'Refresh job failed; the message will be retried', {
        messageId: record.messageId,
        session: job.session,
        tickers: job.tickers.length,
        error: errorText(err),
      });
      return 'retry';
    },
  });
}

/** Runs one job, then counts and logs its outcome (and marks the session refreshed when done). */
async function runAndCount(job: RefreshJob, deps: ProcessTickerDeps): Promise<RefreshOutcome> {
  const { obs } = deps;
  const outcome = await runRefreshJob(job, deps.job);
  obs.count('PolygonRequests', outcome.polygonCalls);
  if (outcome.status === 'deferred') {
    obs.count('Deferrals', 1);
    return outcome;
  }
  await deps.marker.record(outcome.session, {
    refreshed: outcome.refreshed.length + outcome.alreadyFresh,
    noData: outcome.noData.length,
  });
  const { positions } = outcome;
  obs.count('TickersRefreshed', outcome.refreshed.length);
  obs.count('TickersAlreadyFresh', outcome.alreadyFresh);
  obs.count('TickersWithoutData', outcome.noData.length);
  obs.count('PositionsUpdated', positions.updated);
  obs.count('SplitsApplied', outcome.splitsApplied);
  obs.count('PositionsSkipped', positions.deleted + positions.moved + positions.conflicts);
  obs.log('info', 'Refresh done', {
    session: outcome.session,
    strategy: outcome.strategy,
    refreshed: outcome.refreshed.length,
    alreadyFresh: outcome.alreadyFresh,
    noData: outcome.noData.length,
    noDataExamples: outcome.noData.slice(0, 50),
    polygonCalls: outcome.polygonCalls,
    rowsWritten: outcome.rowsWritten,
    positions,
  });
  return outcome;
}
