/**
 * `npm run report -- [--stage local|dev|prod] [--session YYYY-MM-DD] [--data-dir DIR] [--json FILE]`:
 * did last night complete? Exit 0 complete, 1 not, 2 bad usage (or the stage cannot be read).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { latestCompletedSession } from '../../lambdas/market-data/domain/market-calendar';
import { stageNames, stages, type StageName } from '../../lib/config/stages';
import { repoRoot } from '../lib/bundles';
import { loadEnvFile } from '../lib/env-file';
import { UsageError } from '../lib/functions';
import { formatMorningReport, type MorningReport } from './morning-report';
import { deployedMorningReport, type StageClients } from './report-aws';
import { localMorningReport } from './report-local';
import { awsErrorHint } from './aws-errors';

const HELP = `Usage: npm run report -- [--stage local|${stageNames.join('|')}] [--session YYYY-MM-DD] [--data-dir DIR] [--json FILE]

The morning report of a night: tickers fresh n/N (stale ones named), positions repriced, analyses
stored / failed, the xAI cost, queue and DLQ depths, alarms, Polygon calls.
Exit 0 when the night is complete, 1 when it is not, 2 on bad usage.

Options:
  --stage STAGE    local (default): the night "npm start -- --data-dir DIR" left behind;
                   ${stageNames.join(' | ')}: the deployed stage, with your AWS credentials
  --session DATE   the session whose night to report (default: the latest completed one;
                   local: the last night's)
  --data-dir DIR   local: the data directory of the run (default .local/data)
  --region REGION  deployed: override the stage's region
  --json FILE      also write the report as JSON`;

export interface ReportOptions {
  readonly stage: 'local' | StageName;
  readonly session?: string;
  readonly dataDir: string;
  readonly region?: string;
  readonly jsonFile?: string;
  readonly help: boolean;
}

/** Parses the arguments; a mistake is a {@link UsageError}. */
export function parseReportArgs(argv: readonly string[]): ReportOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stage: { type: 'string', default: 'local' },
        session: { type: 'string' },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${HELP}`, { cause: err });
  }
  const stage = values.stage ?? 'local';
  if (stage !== 'local' && !(stageNames as string[]).includes(stage))
    throw new UsageError(`Unknown stage "${stage}": use local, ${stageNames.join(' or ')}.`);
  const session = values.session;
  if (session !== undefined && !isDate(session))
    throw new UsageError(`--session must be a date YYYY-MM-DD, not "${session}".`);
  return {
    stage: stage as ReportOptions['stage'],
    session,
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot, '.local', 'data')),
    region: values.region,
    jsonFile: values.json === undefined ? undefined : path.resolve(values.json),
    help: values.help ?? false,
  };
}

/** A real calendar date `YYYY-MM-DD` (not 2026-13-45, not 2026-02-30). */
function isDate(s: string): boolean {
  const ms = Date.parse(`${s}T00:00:00Z`);
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(s)
  );
}

/** Clients for a deployed stage in its region (or `region`). */
export function stageClients(stage: StageName, region?: string): StageClients {
  const config = { region: region ?? stages[stage].env.region };
  return {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
    sqs: new SQSClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

/** Where the report reads from and writes to; replaceable in tests. */
export interface ReportIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => number;
  readonly clients: (stage: StageName, region?: string) => StageClients;
}

const defaultIo: ReportIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  now: () => Date.now(),
  clients: stageClients,
};

/** Runs the report; resolves to the exit status. */
export async function main(argv: readonly string[], io: ReportIo = defaultIo): Promise<number> {
  let opts: ReportOptions;
  try {
    opts = parseReportArgs(argv);
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  if (opts.help) {
    io.out(HELP);
    return 0;
  }
  let report: MorningReport;
  try {
    report =
      opts.stage === 'local'
        ? await localMorningReport({ dataDir: opts.dataDir, session: opts.session })
        : await deployedMorningReport(io.clients(opts.stage, opts.region), {
            stage: opts.stage,
            session: opts.session ?? latestCompletedSession(io.now()),
            nowMs: io.now(),
          });
  } catch (err) {
    const hint = opts.stage === 'local' ? '' : awsErrorHint(err, opts.stage);
    io.err(`Cannot read the ${opts.stage} stage: ${hint || (err as Error).message}`);
    return 2;
  }
  for (const line of formatMorningReport(report)) io.out(line);
  if (opts.jsonFile) {
    mkdirSync(path.dirname(opts.jsonFile), { recursive: true });
    writeFileSync(opts.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report.complete ? 0 : 1;
}

if (require.main === module) {
  loadEnvFile();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
