/**
 * `npm start`: the whole nightly job on this machine, with no AWS account. See `--help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import type { AnalyzePortfoliosResult } from '../lambdas/analysis/flows';
import type { FreshnessVerdict } from '../lambdas/market-data/domain/freshness';
import { latestCompletedSession } from '../lambdas/market-data/domain/market-calendar';
import type { ProcessTickersResult } from '../lambdas/market-data/flows';
import { depth, drainQueue } from '../sim/queue-poller';
import { repoRoot } from './lib/bundles';
import { Cleanup, stopOnSignals } from './lib/cleanup';
import { NIGHTLY_FUNCTIONS, UsageError } from './lib/functions';
import { errorPayload, lambdaContext } from './lib/lambda-runtime';
import { startLocalServices, upstreamBanner, type LocalServices } from './lib/local-services';
import {
  newAnalysisTally,
  newRefreshTally,
  tallyAnalysis,
  tallyRefresh,
  type AnalysisTally,
  type RefreshTally,
} from './lib/night-progress';
import {
  findProblems,
  formatNightReport,
  readNightReport,
  type NightReport,
} from './lib/night-report';
import { captureOutput, type LogRecord, type OutputCapture } from './lib/output-capture';
import { DEFAULT_SEED_FILE } from './lib/seed';

const HELP = `Usage: npm start -- [options]

Runs the whole nightly job locally: processTickers {} -> ticker-processing-queue -> processTicker
-> analyzePortfolios {} -> portfolio-analysis-queue -> analyzePortfolio -> checkFreshness {},
with the real bundled
handlers against embedded DynamoDB (dynalite) and SQS (moto), and the Polygon and xAI simulators
unless POLYGON_API_KEY / XAI_API_KEY are set. Exits 0 only when the night fully succeeded.

Options:
  --data-dir DIR   keep the DynamoDB data in DIR (a second run continues from the first)
  --seed FILE      sample users/portfolios/positions (default sim/seed/default.json)
  --json FILE      also write the run's result and final state as JSON
  --cdk-out DIR    use the bundles of a synthesized app (npm run synth) instead of building them
  --log-file FILE  where the handlers' logs go (default .local/logs/local-run.log)
  --verbose        handler logs at DEBUG, echoed to stderr
  --help           this text`;

/** Options of one local run. */
export interface LocalRunOptions {
  readonly dataDir?: string;
  readonly seedFile: string;
  readonly jsonFile?: string;
  readonly cdkOut?: string;
  readonly logFile: string;
  readonly verbose: boolean;
  readonly help: boolean;
}

/** Parses `npm start` arguments; a mistake is a {@link UsageError}. */
export function parseLocalRunArgs(argv: readonly string[]): LocalRunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'data-dir': { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'string' },
        'cdk-out': { type: 'string' },
        'log-file': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${HELP}`, { cause: err });
  }
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(p));
  return {
    dataDir: abs(values['data-dir']),
    seedFile: abs(values.seed) ?? DEFAULT_SEED_FILE,
    jsonFile: abs(values.json),
    cdkOut: abs(values['cdk-out']),
    logFile: abs(values['log-file']) ?? path.join(repoRoot, '.local', 'logs', 'local-run.log'),
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

/** The simulated-queue budget: how long a queue may take to drain before the run gives up. */
const drainTimeoutMs = (services: LocalServices, simulatedMs: number) =>
  services.upstreams.polygon.mode === 'simulated' && services.upstreams.xai.mode === 'simulated'
    ? simulatedMs
    : 30 * 60_000;

interface NightResult {
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
  };
  polygonSimulator?: { requests: number; rateLimited: number; maxAdmittedInWindow: number };
  report?: NightReport;
  logFile: string;
}

async function runNight(
  opts: LocalRunOptions,
  capture: OutputCapture,
  cleanup: Cleanup,
): Promise<NightResult> {
  const started = Date.now();
  const say = (line: string) =>
    capture.print(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
  const errors: LogRecord[] = [];
  const take = () => {
    const records = capture.takeRecords();
    errors.push(...records.filter((r) => r.level === 'ERROR'));
    return records;
  };
  const result: NightResult = {
    ok: false,
    problems: [],
    durationMs: 0,
    steps: {},
    logFile: opts.logFile,
  };

  capture.print('ZSM Seven backend processing: the nightly job, run locally');
  const services = await startLocalServices({
    functions: NIGHTLY_FUNCTIONS,
    seedFile: opts.seedFile,
    dataDir: opts.dataDir,
    cdkOut: opts.cdkOut,
    logLevel: opts.verbose ? 'DEBUG' : 'INFO',
    cleanup,
    onProgress: say,
  });
  take();
  result.upstreams = services.upstreams;
  result.timeScale = services.timeScale;
  result.seed = services.seed;
  for (const line of upstreamBanner(services.upstreams, services.timeScale)) capture.print(line);
  const seed = services.seed;
  say(
    `services up: DynamoDB (dynalite, ${opts.dataDir ? `data in ${opts.dataDir}` : 'in memory'}), ` +
      `SQS (moto: ${services.queues.tickers.name}, ${services.queues.analysis.name}, each with a DLQ)`,
  );
  say(
    `seed ${path.relative(process.cwd(), seed.file) || seed.file}: ${seed.users} users, ${seed.portfolios} portfolios ` +
      `(${seed.inactivePortfolios} inactive), ${seed.positions} positions; ${seed.created} items written` +
      (seed.existing > 0 ? `, ${seed.existing} already there (kept)` : ''),
  );
  const portfolioNames = new Map(
    (
      (await services.doc.send(new ScanCommand({ TableName: services.names.portfolios }))).Items ??
      []
    ).map((i) => [String(i.id), String(i.name)]),
  );

  const problems: string[] = [];
  const directInvoke = async <T>(fn: 'processTickers' | 'analyzePortfolios' | 'checkFreshness') => {
    try {
      return (await services.invoke(fn, {})) as T;
    } catch (err) {
      const e = errorPayload(err);
      problems.push(`${fn} failed: ${e.errorType}: ${e.errorMessage}`);
      say(`${fn} {} FAILED: ${e.errorType}: ${e.errorMessage}`);
      return undefined;
    } finally {
      take();
    }
  };

  const fanOut = await directInvoke<ProcessTickersResult>('processTickers');
  let session = fanOut?.session;
  if (fanOut) {
    result.steps.processTickers = fanOut;
    say(
      `processTickers {} -> session ${fanOut.session}: ${fanOut.tickersQueued} tickers from ${fanOut.positionsScanned} positions ` +
        `queued in ${fanOut.jobsQueued} job(s)` +
        (fanOut.invalid.count > 0
          ? `; ${fanOut.invalid.count} position(s) with an invalid ticker`
          : ''),
    );
    const tally = newRefreshTally(fanOut.tickersQueued);
    const drained = await drainQueue({
      client: services.sqs.client,
      queueUrl: services.queues.tickers.queueUrl,
      handler: (event: SQSEvent) => services.invoke('processTicker', event),
      context: () => lambdaContext(services.settings('processTicker')),
      batchSize: services.batchSizes.tickers,
      timeoutMs: drainTimeoutMs(services, 90_000),
      onBatch: (info) => {
        const line = tallyRefresh(tally, take());
        say(
          `processTicker (${info.records} record${info.records === 1 ? '' : 's'}${info.failures > 0 ? `, ${info.failures} FAILED` : ''}): ${line}`,
        );
      },
    });
    result.steps.processTicker = { ...tally, invocations: drained.invocations };
    if (drained.leftOver > 0)
      problems.push(
        `ticker-processing-queue did not drain: ${drained.leftOver} message(s) left after the time limit`,
      );
  }

  const analysisFanOut = await directInvoke<AnalyzePortfoliosResult>('analyzePortfolios');
  if (analysisFanOut) {
    result.steps.analyzePortfolios = analysisFanOut;
    say(
      `analyzePortfolios {} -> ${analysisFanOut.queued} analyses queued (${analysisFanOut.found} active portfolios, ` +
        `${analysisFanOut.skipped.noPositions} without positions)`,
    );
    const tally = newAnalysisTally(analysisFanOut.queued);
    const drained = await drainQueue({
      client: services.sqs.client,
      queueUrl: services.queues.analysis.queueUrl,
      handler: (event: SQSEvent) => services.invoke('analyzePortfolio', event),
      context: () => lambdaContext(services.settings('analyzePortfolio')),
      batchSize: services.batchSizes.analysis,
      timeoutMs: drainTimeoutMs(services, 60_000),
      onBatch: (info) => {
        const line = tallyAnalysis(tally, take(), portfolioNames);
        say(
          `analyzePortfolio (${info.records} record${info.records === 1 ? '' : 's'}${info.failures > 0 ? `, ${info.failures} FAILED` : ''}): ${line}`,
        );
      },
    });
    result.steps.analyzePortfolio = { ...tally, invocations: drained.invocations };
    if (drained.leftOver > 0)
      problems.push(
        `portfolio-analysis-queue did not drain: ${drained.leftOver} message(s) left after the time limit`,
      );
  }

  const freshness = await directInvoke<FreshnessVerdict>('checkFreshness');
  if (freshness) {
    result.steps.checkFreshness = freshness;
    say(
      `checkFreshness {} -> ${freshness.stale ? 'STALE' : 'fresh'}: last refreshed session ${freshness.lastRefreshedSession ?? 'none'}, expected ${freshness.expectedSession}`,
    );
    if (freshness.stale)
      problems.push(
        `checkFreshness reports stale market data (last refreshed ${freshness.lastRefreshedSession ?? 'never'}, expected ${freshness.expectedSession})`,
      );
  }

  session ??= latestCompletedSession(Date.now());
  const { sqs, queues } = services;
  const [tw, td, aw, ad] = await Promise.all([
    depth(sqs.client, queues.tickers.queueUrl),
    depth(sqs.client, queues.tickers.dlqUrl),
    depth(sqs.client, queues.analysis.queueUrl),
    depth(sqs.client, queues.analysis.dlqUrl),
  ]);
  const report = await readNightReport({
    doc: services.doc,
    names: services.names,
    session,
    noData: {
      count: result.steps.processTicker?.noDataCount ?? 0,
      named: new Set(result.steps.processTicker?.noData ?? []),
    },
    queueDepths: {
      tickers: { waiting: fanOut ? tw : 0, deadLetters: td },
      analysis: { waiting: analysisFanOut ? aw : 0, deadLetters: ad },
    },
  });
  problems.push(...findProblems(report));
  if (services.polygonSimulator) {
    const stats = services.polygonSimulator.stats();
    result.polygonSimulator = {
      requests: stats.total,
      rateLimited: stats.rateLimited,
      maxAdmittedInWindow: stats.maxAdmittedInWindow,
    };
  }

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
  if (refresh) {
    capture.print(
      `Polygon: ${refresh.polygonCalls} call(s) in ${refresh.invocations} processTicker invocation(s), ${refresh.deferrals} deferral(s)` +
        (result.polygonSimulator
          ? `; the simulator saw ${result.polygonSimulator.requests} request(s), ${result.polygonSimulator.rateLimited} rate-limited, at most ${result.polygonSimulator.maxAdmittedInWindow} in any 60 s of its clock`
          : ''),
    );
  }
  const analyses = result.steps.analyzePortfolio;
  if (analyses) {
    capture.print(
      `xAI: ${analyses.stored} analysis(es) stored, ${analyses.alreadyAnalysed} already done for this data, cost $${analyses.costUsd.toFixed(4)}`,
    );
  }
  const errorTexts = [
    ...new Set(
      errors.map((e) => `${e.message}${typeof e.error === 'string' ? `: ${e.error}` : ''}`),
    ),
  ];
  for (const text of errorTexts.slice(0, 5)) problems.push(`handler ERROR: ${text}`);
  if (errorTexts.length > 5)
    problems.push(`… and ${errorTexts.length - 5} more handler ERROR line(s) in the log`);

  result.session = session;
  result.report = report;
  result.problems = [...new Set(problems)];
  result.ok = result.problems.length === 0;
  result.durationMs = Date.now() - started;
  return result;
}

/** Runs `npm start` with the given arguments; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: LocalRunOptions;
  try {
    opts = parseLocalRunArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const capture = captureOutput({ logFile: opts.logFile, echo: opts.verbose });
  const cleanup = new Cleanup();
  const removeSignalHandlers = stopOnSignals(cleanup, (signal) => {
    capture.printError(`\nInterrupted (${signal}): stopping the local services…`);
    capture.mute();
  });
  let code: number;
  let result: NightResult | undefined;
  try {
    result = await runNight(opts, capture, cleanup);
    const seconds = (result.durationMs / 1000).toFixed(1);
    const simulated =
      result.upstreams?.polygon.mode === 'simulated' || result.upstreams?.xai.mode === 'simulated';
    if (result.ok) {
      capture.print(
        `RESULT: OK, a complete ${simulated ? 'SIMULATED ' : ''}night in ${seconds} s (handler logs: ${path.relative(process.cwd(), opts.logFile)})`,
      );
      code = 0;
    } else {
      capture.print(`RESULT: FAILED after ${seconds} s, ${result.problems.length} problem(s):`);
      for (const p of result.problems) capture.print(`  - ${p}`);
      capture.print(`Handler logs: ${opts.logFile}`);
      code = 1;
    }
  } catch (err) {
    const usage = err instanceof UsageError;
    capture.printError(`${usage ? '' : 'The local run failed: '}${(err as Error).message}`);
    if (!usage) capture.printError(`Handler logs: ${opts.logFile}`);
    code = usage ? 2 : 1;
  } finally {
    const failures = await cleanup.run();
    for (const f of failures) capture.printError(`Could not stop ${f}`);
    removeSignalHandlers();
    capture.restore();
  }
  if (cleanup.interruptedExitCode !== undefined) return cleanup.interruptedExitCode;
  if (opts.jsonFile && result) {
    mkdirSync(path.dirname(opts.jsonFile), { recursive: true });
    writeFileSync(opts.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  }
  return code;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
