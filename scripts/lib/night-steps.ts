/**
 * The steps of one local night (`npm start`), in order: start the services, refresh market data
 * (processTickers, then drain the ticker queue through processTicker), analyse (analyzePortfolios,
 * then drain the analysis queue through analyzePortfolio), check freshness, read and print the
 * report. Each step is a method of {@link LocalNight}; `runNight` runs them.
 */
import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import type { AnalyzePortfoliosResult } from '../../lambdas/analysis/flows';
import type { FreshnessVerdict } from '../../lambdas/market-data/domain/freshness';
import { latestCompletedSession } from '../../lambdas/market-data/domain/market-calendar';
import type { ProcessTickersResult } from '../../lambdas/market-data/flows';
import type { TrackRecordResult } from '../../lambdas/analysis/track-record/flow';
import type { FunctionName } from '../../lib/functions';
import { drainQueue } from '../../sim/queue-poller';
import type { Cleanup } from './cleanup';
import { NIGHTLY_FUNCTIONS } from './functions';
import { errorPayload, lambdaContext } from './lambda-runtime';
import {
  queueDepths,
  startLocalServices,
  upstreamBanner,
  type LocalServices,
} from './local-services';
import {
  newAnalysisTally,
  newRefreshTally,
  tallyAnalysis,
  tallyRefresh,
  type AnalysisTally,
  type RefreshTally,
} from './night-progress';
import { findProblems, formatNightReport, readNightReport, type NightReport } from './night-report';
import type { LogRecord, OutputCapture } from './output-capture';

/** What a night needs of the `npm start` options. */
export interface NightOptions {
  readonly dataDir?: string;
  readonly seedFile: string;
  readonly cdkOut?: string;
  readonly logFile: string;
  readonly verbose: boolean;
}

export interface NightResult {
  ok: boolean;
  problems: string[];
  session?: string;
  upstreams?: LocalServices['upstreams'];
  timeScale?: number;
  durationMs: number;
  seed?: LocalServices['seed'];
  steps: {
    processTickers?: ProcessTickersResult;
    processTicker?: RefreshTally & { invocations: number };
    analyzePortfolios?: AnalyzePortfoliosResult;
    analyzePortfolio?: AnalysisTally & { invocations: number };
    checkFreshness?: FreshnessVerdict;
    evaluateAnalyses?: TrackRecordResult;
  };
  polygonSimulator?: { requests: number; rateLimited: number; maxAdmittedInWindow: number };
  report?: NightReport;
  logFile: string;
}

/** The simulated-queue budget: how long a queue may take to drain before the run gives up. */
const drainTimeoutMs = (services: LocalServices, simulatedMs: number) =>
  services.upstreams.polygon.mode === 'simulated' && services.upstreams.xai.mode === 'simulated'
    ? simulatedMs
    : 30 * 60_000;

/** Each queue's consumer, name (for messages) and drain time limit when both upstreams are simulated. */
const DRAINS = {
  tickers: { consumer: 'processTicker', name: 'ticker-processing-queue', simulatedMs: 90_000 },
  analysis: { consumer: 'analyzePortfolio', name: 'portfolio-analysis-queue', simulatedMs: 60_000 },
} as const satisfies Record<string, { consumer: FunctionName; name: string; simulatedMs: number }>;

/** One local night: its services, its progress output, what it found wrong so far. */
export class LocalNight {
  private readonly started = Date.now();
  private readonly errors: LogRecord[] = [];
  private readonly problems: string[] = [];
  services!: LocalServices;
  private portfolioNames = new Map<string, string>();
  readonly result: NightResult;

  constructor(
    private readonly opts: NightOptions,
    private readonly capture: OutputCapture,
  ) {
    this.result = { ok: false, problems: [], durationMs: 0, steps: {}, logFile: opts.logFile };
  }

  /** A progress line, prefixed with the seconds since the start. */
  private say(line: string): void {
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(1).padStart(5);
    this.capture.print(`[${elapsed}s] ${line}`);
  }

  /** The handlers' log records since the last call (ERROR records are kept for the end). */
  private take(): LogRecord[] {
    const records = this.capture.takeRecords();
    this.errors.push(...records.filter((r) => r.level === 'ERROR'));
    return records;
  }

  /** Starts the local services, prints the upstream banner and the seed, reads portfolio names. */
  async start(cleanup: Cleanup): Promise<void> {
    const { opts, capture } = this;
    capture.print('ZSM Seven backend processing: the nightly job, run locally');
    const services = await startLocalServices({
      functions: NIGHTLY_FUNCTIONS,
      seedFile: opts.seedFile,
      dataDir: opts.dataDir,
      cdkOut: opts.cdkOut,
      logLevel: opts.verbose ? 'DEBUG' : 'INFO',
      cleanup,
      onProgress: (line) => this.say(line),
    });
    this.take();
    for (const line of upstreamBanner(services.upstreams, services.timeScale)) capture.print(line);
    const seed = services.seed;
    this.say(
      `services up: DynamoDB (dynalite, ${opts.dataDir ? `data in ${opts.dataDir}` : 'in memory'}), ` +
        `SQS (local-aws-sqs: ${services.queues.tickers.name}, ${services.queues.analysis.name}, each with a DLQ)`,
    );
    this.say(
      `seed ${path.relative(process.cwd(), seed.file) || seed.file}: ${seed.users} users, ${seed.portfolios} portfolios ` +
        `(${seed.inactivePortfolios} inactive), ${seed.positions} positions; ${seed.created} items written` +
        (seed.existing > 0 ? `, ${seed.existing} already there (kept)` : ''),
    );
    await this.attach(services);
  }

  /** Uses services that are already up (a later night of `--nights N`); reads portfolio names. */
  async attach(services: LocalServices): Promise<void> {
    this.services = services;
    this.result.upstreams = services.upstreams;
    this.result.timeScale = services.timeScale;
    this.result.seed = services.seed;
    const scan = await services.doc.send(new ScanCommand({ TableName: services.names.portfolios }));
    this.portfolioNames = new Map((scan.Items ?? []).map((i) => [String(i.id), String(i.name)]));
  }

  /** Invokes a function with `{}`; a failure is a problem and `undefined`. */
  private async directInvoke<T>(
    fn: 'processTickers' | 'analyzePortfolios' | 'checkFreshness' | 'evaluateAnalyses',
  ) {
    try {
      return (await this.services.invoke(fn, {})) as T;
    } catch (err) {
      const e = errorPayload(err);
      this.problems.push(`${fn} failed: ${e.errorType}: ${e.errorMessage}`);
      this.say(`${fn} {} FAILED: ${e.errorType}: ${e.errorMessage}`);
      return undefined;
    } finally {
      this.take();
    }
  }

  /**
   * Drains a queue through its consumer, a progress line per batch (`tally` turns the batch's
   * log records into it); returns the invocations.
   */
  private async drain(
    which: keyof typeof DRAINS,
    tally: (records: LogRecord[]) => string,
  ): Promise<number> {
    const { services } = this;
    const { consumer, name, simulatedMs } = DRAINS[which];
    const drained = await drainQueue({
      client: services.sqs.client,
      queueUrl: services.queues[which].queueUrl,
      handler: (event: SQSEvent) => services.invoke(consumer, event),
      context: () => lambdaContext(services.settings(consumer)),
      batchSize: services.batchSizes[which],
      timeoutMs: drainTimeoutMs(services, simulatedMs),
      onBatch: (info) => {
        const line = tally(this.take());
        this.say(
          `${consumer} (${info.records} record${info.records === 1 ? '' : 's'}${info.failures > 0 ? `, ${info.failures} FAILED` : ''}): ${line}`,
        );
      },
    });
    if (drained.leftOver > 0)
      this.problems.push(
        `${name} did not drain: ${drained.leftOver} message(s) left after the time limit`,
      );
    return drained.invocations;
  }

  /** processTickers {}, then the ticker queue through processTicker. */
  async refreshMarketData(): Promise<void> {
    const fanOut = await this.directInvoke<ProcessTickersResult>('processTickers');
    if (!fanOut) return;
    this.result.steps.processTickers = fanOut;
    this.say(
      `processTickers {} -> session ${fanOut.session}: ${fanOut.tickersQueued} tickers from ${fanOut.positionsScanned} positions ` +
        `queued in ${fanOut.jobsQueued} job(s)` +
        (fanOut.invalid.count > 0
          ? `; ${fanOut.invalid.count} position(s) with an invalid ticker`
          : ''),
    );
    const tally = newRefreshTally(fanOut.tickersQueued);
    const invocations = await this.drain('tickers', (records) => tallyRefresh(tally, records));
    this.result.steps.processTicker = { ...tally, invocations };
  }

  /** analyzePortfolios {}, then the analysis queue through analyzePortfolio. */
  async analysePortfolios(): Promise<void> {
    const fanOut = await this.directInvoke<AnalyzePortfoliosResult>('analyzePortfolios');
    if (!fanOut) return;
    this.result.steps.analyzePortfolios = fanOut;
    this.say(
      `analyzePortfolios {} -> ${fanOut.queued} analyses queued (${fanOut.found} active portfolios, ` +
        `${fanOut.skipped.noPositions} without positions)`,
    );
    const tally = newAnalysisTally(fanOut.queued);
    const invocations = await this.drain('analysis', (records) =>
      tallyAnalysis(tally, records, this.portfolioNames),
    );
    this.result.steps.analyzePortfolio = { ...tally, invocations };
  }

  /** checkFreshness {}: stale data is a problem. */
  async checkFreshness(): Promise<void> {
    const freshness = await this.directInvoke<FreshnessVerdict>('checkFreshness');
    if (!freshness) return;
    this.result.steps.checkFreshness = freshness;
    const last = freshness.lastRefreshedSession;
    this.say(
      `checkFreshness {} -> ${freshness.stale ? 'STALE' : 'fresh'}: last refreshed session ${last ?? 'none'}, expected ${freshness.expectedSession}`,
    );
    if (freshness.stale)
      this.problems.push(
        `checkFreshness reports stale market data (last refreshed ${last ?? 'never'}, expected ${freshness.expectedSession})`,
      );
  }

  /** evaluateAnalyses {}: the score track record (evaluations appear h sessions after an analysis). */
  async evaluateTrackRecord(): Promise<void> {
    const run = await this.directInvoke<TrackRecordResult>('evaluateAnalyses');
    if (!run) return;
    this.result.steps.evaluateAnalyses = run;
    this.say(
      `evaluateAnalyses {} -> evaluated ${run.evaluated}, not yet due ${run.notDue}, old rows skipped ${run.legacy + run.invalid}`,
    );
    const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(1)} %`);
    const ic = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(3));
    for (const i of run.items)
      this.say(
        `track record ${i.modelPrompt} (${i.asOf}): ${i.analyses} analyses, ${i.scores} scores, hit rate ${pct(i.hitRate)}, mean IC ${ic(i.meanIc)}` +
          (i.icLow === undefined ? '' : ` [${ic(i.icLow)}, ${ic(i.icHigh)}]`),
      );
  }

  /** Reads the night's report (tables and queue depths) and the simulator's statistics. */
  async readReport(): Promise<NightReport> {
    const { services, result } = this;
    const session = result.steps.processTickers?.session ?? latestCompletedSession(Date.now());
    const depths = await queueDepths(services);
    const report = await readNightReport({
      doc: services.doc,
      names: services.names,
      session,
      noData: {
        count: result.steps.processTicker?.noDataCount ?? 0,
        named: new Set(result.steps.processTicker?.noData ?? []),
      },
      queueDepths: {
        // A queue whose producer did not run is not waiting on this night.
        tickers: {
          ...depths.tickers,
          waiting: result.steps.processTickers ? depths.tickers.waiting : 0,
        },
        analysis: {
          ...depths.analysis,
          waiting: result.steps.analyzePortfolios ? depths.analysis.waiting : 0,
        },
      },
    });
    this.problems.push(...findProblems(report));
    if (services.polygonSimulator) {
      const stats = services.polygonSimulator.stats();
      result.polygonSimulator = {
        requests: stats.total,
        rateLimited: stats.rateLimited,
        maxAdmittedInWindow: stats.maxAdmittedInWindow,
      };
    }
    result.session = session;
    result.report = report;
    return report;
  }

  /** Prints the report and the Polygon and xAI summaries. */
  printReport(report: NightReport): void {
    const { capture, services, result } = this;
    capture.print('');
    const label = (mode: string) => (mode === 'simulated' ? 'SIMULATED' : 'REAL');
    for (const line of formatNightReport(report, {
      polygon: label(services.upstreams.polygon.mode),
      xai: label(services.upstreams.xai.mode),
      model: process.env.XAI_MODEL ?? '',
    }))
      capture.print(line);
    capture.print('');
    const refresh = result.steps.processTicker;
    const sim = result.polygonSimulator;
    if (refresh) {
      capture.print(
        `Polygon: ${refresh.polygonCalls} call(s) in ${refresh.invocations} processTicker invocation(s), ${refresh.deferrals} deferral(s)` +
          (sim
            ? `; the simulator saw ${sim.requests} request(s), ${sim.rateLimited} rate-limited, at most ${sim.maxAdmittedInWindow} in any 60 s of its clock`
            : ''),
      );
    }
    const analyses = result.steps.analyzePortfolio;
    if (analyses) {
      capture.print(
        `xAI: ${analyses.stored} analysis(es) stored, ${analyses.alreadyAnalysed} already done for this data, cost $${analyses.costUsd.toFixed(4)}`,
      );
    }
  }

  /** Adds the handlers' ERROR lines (the first five) to the problems and settles the result. */
  finish(): NightResult {
    const errorTexts = [
      ...new Set(
        this.errors.map((e) => `${e.message}${typeof e.error === 'string' ? `: ${e.error}` : ''}`),
      ),
    ];
    for (const text of errorTexts.slice(0, 5)) this.problems.push(`handler ERROR: ${text}`);
    if (errorTexts.length > 5)
      this.problems.push(`… and ${errorTexts.length - 5} more handler ERROR line(s) in the log`);
    this.result.problems = [...new Set(this.problems)];
    this.result.ok = this.result.problems.length === 0;
    this.result.durationMs = Date.now() - this.started;
    return this.result;
  }
}

/** Runs one whole local night, step by step; the result says whether it fully succeeded. */
export async function runNight(
  opts: NightOptions,
  capture: OutputCapture,
  cleanup: Cleanup,
): Promise<NightResult> {
  const night = new LocalNight(opts, capture);
  await night.start(cleanup);
  return playNight(night);
}

/**
 * The steps of a night whose services are up; the report (tickers, scores, Polygon and xAI
 * summaries) is printed unless `printReport` is false (the earlier nights of `--nights N`).
 */
export async function playNight(night: LocalNight, printReport = true): Promise<NightResult> {
  await night.refreshMarketData();
  await night.analysePortfolios();
  await night.checkFreshness();
  await night.evaluateTrackRecord();
  const report = await night.readReport();
  if (printReport) night.printReport(report);
  return night.finish();
}
