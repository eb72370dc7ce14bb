/**
 * `npm start`: the whole nightly job on this machine, with no AWS account. See `--help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './lib/bundles';
import { Cleanup, stopOnSignals } from './lib/cleanup';
import { loadEnvFile } from './lib/env-file';
import { UsageError } from './lib/functions';
import { writeNightRecord } from './lib/night-record';
import { runNight } from './lib/night-steps';
import { runNights, type NightsResult } from './lib/nights';
import { captureOutput, type OutputCapture } from './lib/output-capture';
import { DEFAULT_SEED_FILE } from './lib/seed';

const HELP = `Usage: npm start -- [options]

Runs the whole nightly job locally: processTickers {} -> ticker-processing-queue -> processTicker
-> analyzePortfolios {} -> portfolio-analysis-queue -> analyzePortfolio -> checkFreshness {},
with the real bundled
handlers against embedded DynamoDB (dynalite) and SQS (local-aws-sqs), and the Polygon and xAI
simulators unless POLYGON_API_KEY / XAI_API_KEY are set. Exits 0 only when the night fully succeeded.

Options:
  --nights N       play N consecutive nights (default 1), each at the 04:30 UTC trigger after the
                   next NYSE session (TUE-SAT, holidays skipped) on a shifted clock, so the score
                   track record appears: an analysis is evaluated 5 sessions later, from night 6 on.
                   The xAI simulator's scores lean a little towards its own next-5-session returns
                   (a small real signal). Needs the Polygon simulator (no POLYGON_API_KEY)
  --data-dir DIR   keep the DynamoDB data in DIR (a second run continues from the first)
  --seed FILE      sample users/portfolios/positions (default sim/seed/default.json)
  --json FILE      also write the run's result and final state as JSON
  --cdk-out DIR    use the bundles of a synthesized app (npm run synth) instead of building them
  --log-file FILE  where the handlers' logs go (default .local/logs/local-run.log)
  --verbose        handler logs at DEBUG, echoed to stderr
  --help           this text`;

/** The most nights one run plays (about 15 s each). */
const MAX_NIGHTS = 60;

/** Options of one local run. */
export interface LocalRunOptions {
  readonly nights: number;
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
        nights: { type: 'string', default: '1' },
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
  const nights = Number(values.nights);
  if (!/^\d+$/.test(values.nights ?? '') || nights < 1 || nights > MAX_NIGHTS)
    throw new UsageError(
      `--nights must be a whole number from 1 to ${MAX_NIGHTS}, got "${values.nights}"\n\n${HELP}`,
    );
  return {
    nights,
    dataDir: abs(values['data-dir']),
    seedFile: abs(values.seed) ?? DEFAULT_SEED_FILE,
    jsonFile: abs(values.json),
    cdkOut: abs(values['cdk-out']),
    logFile: abs(values['log-file']) ?? path.join(repoRoot, '.local', 'logs', 'local-run.log'),
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

/** The RESULT line (and the problems when the run failed); returns the exit status. */
function printOutcome(capture: OutputCapture, opts: LocalRunOptions, result: NightsResult): number {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const simulated =
    result.upstreams?.polygon.mode === 'simulated' || result.upstreams?.xai.mode === 'simulated';
  const what =
    opts.nights > 1
      ? `${opts.nights} complete ${simulated ? 'SIMULATED ' : ''}nights`
      : `a complete ${simulated ? 'SIMULATED ' : ''}night`;
  if (result.ok) {
    capture.print(
      `RESULT: OK, ${what} in ${seconds} s (handler logs: ${path.relative(process.cwd(), opts.logFile)})`,
    );
    return 0;
  } else {
    capture.print(`RESULT: FAILED after ${seconds} s, ${result.problems.length} problem(s):`);
    for (const p of result.problems) capture.print(`  - ${p}`);
    capture.print(`Handler logs: ${opts.logFile}`);
    return 1;
  }
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
  let result: NightsResult | undefined;
  try {
    if (opts.nights > 1 && process.env.POLYGON_API_KEY)
      throw new UsageError(
        '--nights N plays future sessions, which only the Polygon simulator has: unset POLYGON_API_KEY',
      );
    result =
      opts.nights > 1
        ? await runNights(opts, capture, cleanup, opts.nights)
        : await runNight(opts, capture, cleanup);
    code = printOutcome(capture, opts, result);
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
  // For `npm run report -- --stage local --data-dir DIR`: the queues' final state and the counts.
  if (opts.dataDir && result) writeNightRecord(opts.dataDir, result);
  if (opts.jsonFile && result) {
    mkdirSync(path.dirname(opts.jsonFile), { recursive: true });
    writeFileSync(opts.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  }
  return code;
}

if (require.main === module) {
  loadEnvFile(); // .env, when present: the upstream keys (see .env.example)
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
