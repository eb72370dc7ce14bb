/**
 * `npm run invoke -- <function> <event.json|-> [--stage local|dev|prod]`: one function, one
 * event, locally against the embedded services or deployed through the Lambda API. See `--help`.
 */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { stageNames, stages, type StageName } from '../lib/config/stages';
import { functionPhysicalName, type FunctionName } from '../lib/functions';
import { repoRoot } from './lib/bundles';
import { Cleanup, stopOnSignals } from './lib/cleanup';
import { loadEnvFile } from './lib/env-file';
import {
  describeFunctions,
  readEventArgument,
  resolveFunctionName,
  UsageError,
  validateEvent,
} from './lib/functions';
import { errorPayload } from './lib/lambda-runtime';
import {
  LOCAL_STAGE,
  queueDepths,
  startLocalServices,
  upstreamBanner,
  type LocalServices,
} from './lib/local-services';
import { captureOutput, type OutputCapture } from './lib/output-capture';
import { invokeRemote, remoteErrorHint } from './lib/remote-invoke';
import { DEFAULT_SEED_FILE } from './lib/seed';

const usage = () => `Usage: npm run invoke -- <function> <event.json | - | '{...}'> [options]

Invokes one function with one event and prints the response (and, for a function error, the
error) and the log. The event is a JSON file (see events/), "-" for standard input, or inline JSON.

Options:
  --stage STAGE    local (default): the bundled handler against embedded DynamoDB/SQS and the
                   simulators (real Polygon/xAI when POLYGON_API_KEY / XAI_API_KEY are set),
                   seeded with the sample data; ${stageNames.join(' | ')}: the deployed function
                   zsmseven-backend-processing-api-<stage>-<function>, through the Lambda API
  --data-dir DIR   local: keep the DynamoDB data in DIR (e.g. the one "npm start -- --data-dir DIR" left)
  --seed FILE      local: sample data (default sim/seed/default.json)
  --cdk-out DIR    local: the bundle of a synthesized app (npm run synth) instead of building it
  --region REGION  deployed: override the stage's region
  --verbose        local: handler logs at DEBUG

Functions and their events:
${describeFunctions()}`;

/** Where the script writes and reads; replaceable in tests. */
export interface InvokeIo {
  readonly stdin: Readable;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: InvokeIo = {
  stdin: process.stdin,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Parsed `npm run invoke` arguments. */
export interface InvokeOptions {
  readonly fn: FunctionName;
  readonly eventArg: string;
  readonly stage: StageName | typeof LOCAL_STAGE;
  readonly dataDir?: string;
  readonly seedFile: string;
  readonly cdkOut?: string;
  readonly region?: string;
  readonly verbose: boolean;
}

/** Parses the arguments; a mistake is a {@link UsageError} saying what is valid. */
export function parseInvokeArgs(argv: readonly string[]): InvokeOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        stage: { type: 'string', default: LOCAL_STAGE },
        'data-dir': { type: 'string' },
        seed: { type: 'string' },
        'cdk-out': { type: 'string' },
        region: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage()}`, { cause: err });
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 2)
    throw new UsageError(
      `Too many arguments (${positionals.slice(2).join(' ')}); give one function and one event.\n\n${usage()}`,
    );
  const fn = resolveFunctionName(positionals[0]);
  const stage = values.stage ?? LOCAL_STAGE;
  if (stage !== LOCAL_STAGE && !stageNames.includes(stage as StageName)) {
    throw new UsageError(
      `Unknown stage "${stage}". Valid stages: ${[LOCAL_STAGE, ...stageNames].join(', ')}.`,
    );
  }
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(p));
  return {
    fn,
    eventArg: positionals[1] ?? '',
    stage: stage as InvokeOptions['stage'],
    dataDir: abs(values['data-dir']),
    seedFile: abs(values.seed) ?? DEFAULT_SEED_FILE,
    cdkOut: abs(values['cdk-out']),
    region: values.region,
    verbose: values.verbose ?? false,
  };
}

const pretty = (value: unknown) =>
  typeof value === 'string' ? value : JSON.stringify(value, null, 2);

async function invokeDeployed(
  opts: InvokeOptions & { stage: StageName },
  event: unknown,
  io: InvokeIo,
): Promise<number> {
  const functionName = functionPhysicalName(opts.stage, opts.fn);
  const region = opts.region ?? stages[opts.stage].env.region;
  io.out(`Invoking ${functionName} in ${region} (stage ${opts.stage.toUpperCase()}, deployed)\n`);
  let result;
  try {
    result = await invokeRemote({ functionName, region, event });
  } catch (err) {
    const hint = remoteErrorHint(err, functionName, region);
    io.err(
      `Could not invoke ${functionName}: ${(err as Error).name}: ${(err as Error).message}\n${hint ? `${hint}\n` : ''}`,
    );
    return 1;
  }
  io.out(
    `Status ${result.statusCode ?? '?'}, version ${result.executedVersion ?? '?'}, ${(result.durationMs / 1000).toFixed(1)} s\n`,
  );
  if (result.functionError) io.out(`FunctionError: ${result.functionError}\n`);
  io.out(`Response:\n${pretty(result.payload)}\n`);
  io.out(`--- log tail (the last 4 KB Lambda returns) ---\n${result.logTail.trimEnd()}\n`);
  return result.functionError ? 1 : 0;
}

/** Invokes the function once and prints its time, response and log lines; resolves to the status. */
async function invokeAndPrint(
  services: LocalServices,
  opts: InvokeOptions,
  event: unknown,
  capture: OutputCapture,
  logFile: string,
): Promise<number> {
  const print = (text: string) => capture.print(text.replace(/\n$/, ''));
  capture.takeLines();
  const started = Date.now();
  const settings = services.settings(opts.fn);
  let code = 0;
  try {
    const response = await services.invoke(opts.fn, event);
    print(`${settings.functionName}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    print(`Response:\n${pretty(response)}`);
  } catch (err) {
    print(`${settings.functionName}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    print('FunctionError: Unhandled');
    print(`Response:\n${pretty(errorPayload(err))}`);
    code = 1;
  }
  const lines = capture.takeLines().filter((l) => l.trim() !== '');
  print(`--- log (${lines.length} line(s); also in ${path.relative(process.cwd(), logFile)}) ---`);
  for (const line of lines) print(line);
  const q = services.queues;
  const { tickers, analysis } = await queueDepths(services);
  print(
    `Local queues now: ${q.tickers.name} ${tickers.waiting} message(s) (DLQ ${tickers.deadLetters}), ${q.analysis.name} ${analysis.waiting} (DLQ ${analysis.deadLetters})` +
      (tickers.waiting + analysis.waiting > 0
        ? '; nothing consumes them here (they vanish on exit): "npm start" runs the whole chain'
        : ''),
  );
  return code;
}

async function invokeLocal(opts: InvokeOptions, event: unknown): Promise<number> {
  const logFile = path.join(repoRoot, '.local', 'logs', 'invoke.log');
  const capture = captureOutput({ logFile, echo: opts.verbose });
  const print = (text: string) => capture.print(text.replace(/\n$/, ''));
  const cleanup = new Cleanup();
  const removeSignalHandlers = stopOnSignals(cleanup, (signal) => {
    capture.printError(`\nInterrupted (${signal}): stopping the local services…`);
    capture.mute();
  });
  let code: number;
  try {
    print(`Invoking ${opts.fn} LOCALLY (stage local: embedded services, nothing in AWS)`);
    const services = await startLocalServices({
      functions: [opts.fn],
      seedFile: opts.seedFile,
      dataDir: opts.dataDir,
      cdkOut: opts.cdkOut,
      logLevel: opts.verbose ? 'DEBUG' : 'INFO',
      cleanup,
    });
    for (const line of upstreamBanner(services.upstreams, services.timeScale)) print(line);
    const bundle = services.bundles[0];
    print(
      `Bundle ${path.relative(process.cwd(), bundle.file)} (${bundle.origin === 'cdk-out' ? 'from the cloud assembly' : bundle.rebuilt ? 'built with esbuild' : 'esbuild, unchanged since its last build'}); ` +
        `DynamoDB ${opts.dataDir ? `data in ${opts.dataDir}` : 'in memory'}; seed ${path.relative(process.cwd(), services.seed.file)} ` +
        `(${services.seed.created} items written, ${services.seed.existing} already there)`,
    );
    code = await invokeAndPrint(services, opts, event, capture, logFile);
  } catch (err) {
    const isUsage = err instanceof UsageError;
    capture.printError(
      `${isUsage ? '' : 'The local invocation could not be set up: '}${(err as Error).message}`,
    );
    code = isUsage ? 2 : 1;
  } finally {
    for (const f of await cleanup.run()) capture.printError(`Could not stop ${f}`);
    removeSignalHandlers();
    capture.restore();
  }
  return cleanup.interruptedExitCode ?? code;
}

/** Runs `npm run invoke` with the given arguments; resolves to the exit status. */
export async function main(argv: readonly string[], io: InvokeIo = defaultIo): Promise<number> {
  let opts: InvokeOptions;
  let event: unknown;
  try {
    const parsed = parseInvokeArgs(argv);
    if (parsed === 'help') {
      io.out(`${usage()}\n`);
      return 0;
    }
    opts = parsed;
    event = await readEventArgument(opts.eventArg, io.stdin);
    validateEvent(opts.fn, event);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n`);
    return 2;
  }
  return opts.stage === LOCAL_STAGE
    ? invokeLocal(opts, event)
    : invokeDeployed({ ...opts, stage: opts.stage }, event, io);
}

if (require.main === module) {
  loadEnvFile(); // .env, when present: the upstream keys (see .env.example)
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
