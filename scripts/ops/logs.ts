/**
 * `npm run logs -- <function|all> [--stage dev|prod] [--since 1h|30m|2026-12-01T04:00Z] [--follow]
 *  [--level ERROR] [--correlation-id ID] [--grep TEXT] [--json]`: a deployed function's logs,
 * readable. Function and log group names come from the one registry (lib/functions.ts).
 */
import { parseArgs } from 'node:util';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { stageNames, stages, type StageName } from '../../lib/config/stages';
import { FUNCTION_NAMES, functionPhysicalName, type FunctionName } from '../../lib/functions';
import { loadEnvFile } from '../lib/env-file';
import { awsErrorHint } from './aws-errors';
import { formatLogEvent, LEVELS, type Level, type LogEvent, type LogFilter } from './log-format';
import {
  fetchLogs,
  followLogs,
  logGroupArns,
  MissingLogGroupError,
  type LogTarget,
} from './log-source';

const HELP = `Usage: npm run logs -- <function|all> [options]

Prints a deployed function's logs (Powertools JSON lines as one readable line each).
Functions: ${FUNCTION_NAMES.join(', ')}; "all" (or none with --correlation-id) reads every one,
interleaved by time.

Options:
  --stage STAGE          ${stageNames.join(' | ')} (default dev)
  --since WHEN           how far back: 30m, 1h, 2d, or a time like 2026-12-01T04:00Z (default 1h)
  --follow               follow new lines live (CloudWatch Logs live tail) until Ctrl-C; with
                         --since, print the lines since then first
  --level LEVEL          this level and more severe: ${LEVELS.join(', ')}
  --correlation-id ID    one night's run across every function (the id the fan-outs send)
  --grep TEXT            lines containing TEXT (case-sensitive)
  --json                 the raw lines, for jq
  --region REGION        override the stage's region`;

/** A command-line mistake (exit 2). */
class LogsUsageError extends Error {}

export interface LogsOptions {
  readonly functions: readonly FunctionName[];
  readonly stage: StageName;
  readonly startTime: number;
  readonly follow: boolean;
  /** Read the past first (FilterLogEvents): always, unless following without --since. */
  readonly history: boolean;
  readonly filter: LogFilter;
  readonly json: boolean;
  readonly region?: string;
  readonly help: boolean;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m` / `1h` / `2d` before `now`, or an ISO time (a bare `…T04:00Z` is accepted). */
export function parseSince(text: string, nowMs: number): number {
  const rel = /^(\d+)([smhd])$/.exec(text);
  if (rel) return nowMs - Number(rel[1]) * UNITS[rel[2]];
  const at = Date.parse(/T\d{2}:\d{2}Z$/.test(text) ? text.replace(/Z$/, ':00Z') : text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at))
    throw new LogsUsageError(
      `--since "${text}" is neither a duration (30m, 1h, 2d) nor a time (2026-12-01T04:00Z).`,
    );
  return at;
}

function parseFunctions(raw: string | undefined, correlationId: string | undefined) {
  if (raw === undefined || raw === 'all') {
    if (raw === undefined && !correlationId)
      throw new LogsUsageError(`Name a function (${FUNCTION_NAMES.join(', ')}) or "all".`);
    return [...FUNCTION_NAMES];
  }
  const wanted = raw.replace(/[-_]/g, '').toLowerCase();
  const found = FUNCTION_NAMES.find((fn) => fn.toLowerCase() === wanted);
  if (!found)
    throw new LogsUsageError(
      `Unknown function "${raw}": use one of ${FUNCTION_NAMES.join(', ')}, or "all".`,
    );
  return [found];
}

/** Parses the arguments; a mistake throws with a one-line message. */
export function parseLogsArgs(argv: readonly string[], nowMs: number): LogsOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        stage: { type: 'string', default: 'dev' },
        since: { type: 'string' },
        follow: { type: 'boolean', short: 'f', default: false },
        level: { type: 'string' },
        'correlation-id': { type: 'string' },
        grep: { type: 'string' },
        json: { type: 'boolean', default: false },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new LogsUsageError(`${(err as Error).message} (npm run logs -- --help)`, { cause: err });
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1)
    throw new LogsUsageError(`One function at a time (or "all"), not ${positionals.join(' ')}.`);
  const stage = values.stage ?? 'dev';
  if (!(stageNames as string[]).includes(stage))
    throw new LogsUsageError(
      `Unknown stage "${stage}": use ${stageNames.join(' or ')} (local runs log to .local/logs/local-run.log).`,
    );
  const level = values.level?.toUpperCase();
  if (level !== undefined && !(LEVELS as readonly string[]).includes(level))
    throw new LogsUsageError(`Unknown level "${values.level}": use ${LEVELS.join(', ')}.`);
  const correlationId = values['correlation-id'];
  return {
    functions: values.help ? [] : parseFunctions(positionals[0], correlationId),
    stage: stage as StageName,
    startTime: parseSince(values.since ?? '1h', nowMs),
    follow: values.follow ?? false,
    history: !values.follow || values.since !== undefined,
    filter: { level: level as Level | undefined, correlationId, grep: values.grep },
    json: values.json ?? false,
    region: values.region,
    help: values.help ?? false,
  };
}

/** Where the command writes and what it reads through; replaceable in tests. */
export interface LogsIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => number;
  readonly colour: boolean;
  readonly client: (region: string) => CloudWatchLogsClient;
  /** Aborts a `--follow` (Ctrl-C). */
  readonly stop: AbortSignal;
}

/** Runs `npm run logs`; resolves to the exit status (2: usage, credentials, missing group). */
export async function main(argv: readonly string[], io: LogsIo): Promise<number> {
  let opts: LogsOptions;
  try {
    opts = parseLogsArgs(argv, io.now());
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  if (opts.help) {
    io.out(HELP);
    return 0;
  }
  const client = io.client(opts.region ?? stages[opts.stage].env.region);
  const many = opts.functions.length > 1;
  const targets: LogTarget[] = opts.functions.map((fn) => ({
    label: many ? fn : '',
    logGroupName: `/aws/lambda/${functionPhysicalName(opts.stage, fn)}`,
  }));
  const print = (e: LogEvent) =>
    io.out(opts.json ? e.message.trimEnd() : formatLogEvent(e, { colour: io.colour }));
  try {
    const arns = await logGroupArns(client, targets);
    if (opts.history)
      (
        await fetchLogs(client, targets, { startTime: opts.startTime }, opts.filter, io.stop)
      ).forEach(print);
    if (opts.follow)
      await followLogs({
        client,
        targets,
        arns,
        filter: opts.filter,
        signal: io.stop,
        onEvent: print,
        onNotice: io.err,
      });
    return 0;
  } catch (err) {
    if (io.stop.aborted) return 0; // Ctrl-C while reading: stopped, not failed
    const message =
      err instanceof MissingLogGroupError
        ? err.message
        : awsErrorHint(err, opts.stage, 'or read a local run in .local/logs/local-run.log') ||
          `${(err as Error).name}: ${(err as Error).message}`;
    io.err(message);
    return 2;
  }
}

if (require.main === module) {
  loadEnvFile();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  void main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    now: () => Date.now(),
    colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
    client: (region) => new CloudWatchLogsClient({ region }),
    stop: controller.signal,
  }).then((code) => process.exit(code));
}
