import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  StartLiveTailCommand,
  type StartLiveTailResponseStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { filterPattern, formatLogEvent, matches } from '../../../scripts/ops/log-format';
import { main, parseSince } from '../../../scripts/ops/logs';
import { FUNCTION_NAMES } from '../../../lib/functions';

const logs = mockClient(CloudWatchLogsClient);
const NOW = Date.parse('2026-12-01T09:00:00Z');
const GROUP = '/aws/lambda/zsmseven-backend-processing-api-dev-processTicker';
const arnOf = (group: string) => `arn:aws:logs:us-east-1:123456789012:log-group:${group}`;

const record = (level: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    level,
    message,
    timestamp: '2026-12-01T04:30:01.123Z',
    service: 'backend-processing',
    stage: 'dev',
    ...extra,
  });

/** Every log group of the stage exists. */
function groupsExist() {
  logs.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix: string }) => ({
    logGroups: [
      { logGroupName: input.logGroupNamePrefix, logGroupArn: arnOf(input.logGroupNamePrefix) },
    ],
  }));
}

async function run(argv: string[], opts: { stop?: AbortSignal; colour?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => NOW,
    colour: opts.colour ?? false,
    client: () => new CloudWatchLogsClient({ region: 'us-east-1' }),
    stop: opts.stop ?? new AbortController().signal,
  });
  return { code, out, err };
}

async function* stream(
  ...updates: StartLiveTailResponseStream[]
): AsyncIterable<StartLiveTailResponseStream> {
  for (const u of updates) yield u;
}

beforeEach(() => logs.reset());

describe('the log formatter', () => {
  it('prints a Powertools record as time, level, message and the useful keys', () => {
    const line = formatLogEvent(
      {
        timestamp: Date.parse('2026-12-01T04:30:01.123Z'),
        message: record('ERROR', 'Refresh job failed; the message will be retried', {
          session: '2026-11-30',
          tickers: 3,
          correlation_id: 'run-1',
          error: { name: 'UpstreamError', message: 'Polygon 503', stack: 'at …' },
          xray_trace_id: 'noise',
        }),
      },
      { colour: false },
    );
    expect(line).toBe(
      '2026-12-01 04:30:01.123Z ERROR Refresh job failed; the message will be retried  ' +
        'tickers=3 session=2026-11-30 correlation_id=run-1 error="UpstreamError: Polygon 503"',
    );
  });

  it('colours by level only for a terminal, and keeps Lambda’s own lines as they are', () => {
    const event = { timestamp: NOW, message: record('WARN', 'Positions left out') };
    const coloured = formatLogEvent(event, { colour: true });
    expect(coloured.startsWith('\x1b[33m') && coloured.endsWith('\x1b[0m')).toBe(true);
    expect(formatLogEvent(event, { colour: false })).not.toContain('\x1b');
    expect(
      formatLogEvent(
        { timestamp: NOW, message: 'REPORT RequestId: abc Duration: 12.3 ms\n' },
        { colour: true },
      ),
    ).toBe('2026-12-01 09:00:00.000Z REPORT RequestId: abc Duration: 12.3 ms');
  });

  it('builds the CloudWatch filter pattern and applies the same filter on this side', () => {
    expect(filterPattern({ level: 'WARN', correlationId: 'run-1' })).toBe(
      '{ ($.level = "WARN" || $.level = "ERROR" || $.level = "CRITICAL") && $.correlation_id = "run-1" }',
    );
    expect(filterPattern({ grep: 'NVDA' })).toBe('"NVDA"');
    expect(filterPattern({})).toBeUndefined();
    const e = (level: string, id: string) => ({
      timestamp: 0,
      message: record(level, 'x', { correlation_id: id, ticker: 'NVDA' }),
    });
    expect(matches(e('ERROR', 'run-1'), { level: 'WARN', correlationId: 'run-1' })).toBe(true);
    expect(matches(e('INFO', 'run-1'), { level: 'WARN' })).toBe(false);
    expect(matches(e('ERROR', 'run-2'), { correlationId: 'run-1' })).toBe(false);
    expect(matches(e('INFO', 'run-1'), { grep: 'NVDA', level: 'INFO' })).toBe(true);
    expect(matches({ timestamp: 0, message: 'START RequestId: x' }, { level: 'INFO' })).toBe(false);
  });

  it('reads --since as a duration or a time', () => {
    expect(parseSince('30m', NOW)).toBe(NOW - 30 * 60_000);
    expect(parseSince('2d', NOW)).toBe(NOW - 2 * 86_400_000);
    expect(parseSince('2026-12-01T04:00Z', NOW)).toBe(Date.parse('2026-12-01T04:00:00Z'));
    expect(() => parseSince('yesterday', NOW)).toThrow('--since "yesterday"');
  });
});

describe('npm run logs', () => {
  it('reads every page of FilterLogEvents since --since with the filter pattern, readably', async () => {
    // Prepare
    groupsExist();
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [
          { timestamp: NOW - 60_000, message: record('ERROR', 'first', { ticker: 'NVDA' }) },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        events: [{ timestamp: NOW - 30_000, message: record('ERROR', 'second') }],
      });

    // Act
    const ran = await run(['processTicker', '--since', '30m', '--level', 'error']);

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.out).toEqual([
      '2026-12-01 08:59:00.000Z ERROR first  ticker=NVDA',
      '2026-12-01 08:59:30.000Z ERROR second',
    ]);
    const calls = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      logGroupName: GROUP,
      startTime: NOW - 30 * 60_000,
      filterPattern: '{ ($.level = "ERROR" || $.level = "CRITICAL") }',
    });
    expect(calls[0].nextToken).toBeUndefined();
    expect(calls[1].nextToken).toBe('page-2');
  });

  it('follows one correlation id across every function, interleaved by time, raw with --json', async () => {
    // Prepare
    groupsExist();
    const run7 = (message: string) => record('INFO', message, { correlation_id: 'run-7' });
    logs.on(FilterLogEventsCommand).callsFake((input: { logGroupName: string }) => {
      if (input.logGroupName.endsWith('-processTickers'))
        return { events: [{ timestamp: 1_000, message: run7('queued') }] };
      if (input.logGroupName.endsWith('-processTicker'))
        return {
          events: [
            { timestamp: 2_000, message: run7('refreshed') },
            // Another night's line: dropped on this side too.
            { timestamp: 2_500, message: record('INFO', 'other', { correlation_id: 'run-6' }) },
          ],
        };
      if (input.logGroupName.endsWith('-analyzePortfolio'))
        return { events: [{ timestamp: 1_500, message: run7('analysed') }] };
      return { events: [] };
    });

    // Act
    const ran = await run(['--correlation-id', 'run-7', '--json']);

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.out.map((l) => JSON.parse(l).message)).toEqual(['queued', 'analysed', 'refreshed']);
    const calls = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    // One query per function of the registry.
    expect(calls).toHaveLength(FUNCTION_NAMES.length);
    expect(new Set(calls.map((c) => c.filterPattern))).toEqual(
      new Set(['{ $.correlation_id = "run-7" }']),
    );
  });

  it('follows live with StartLiveTail, starts again after a session timeout, and stops on Ctrl-C', async () => {
    // Prepare
    groupsExist();
    const stop = new AbortController();
    logs
      .on(StartLiveTailCommand)
      .resolvesOnce({
        responseStream: stream(
          { sessionStart: { sessionId: 's1' } },
          {
            sessionUpdate: {
              sessionResults: [
                {
                  logGroupIdentifier: arnOf(GROUP),
                  timestamp: NOW,
                  message: record('INFO', 'one'),
                },
              ],
            },
          },
          { SessionTimeoutException: { name: 'SessionTimeoutException', message: '3 h' } as never },
        ),
      })
      .callsFake(() => {
        stop.abort();
        return {
          responseStream: stream({
            sessionUpdate: {
              sessionResults: [
                { logGroupIdentifier: GROUP, timestamp: NOW + 1, message: record('INFO', 'two') },
              ],
            },
          }),
        };
      });

    // Act
    const ran = await run(['processTicker', '--follow', '--grep', 'o'], { stop: stop.signal });

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.out).toEqual([
      '2026-12-01 09:00:00.000Z INFO  one',
      '2026-12-01 09:00:00.001Z INFO  two',
    ]);
    expect(ran.err).toEqual(['The live tail session ended after its 3 hours; starting a new one.']);
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
    expect(logs.commandCalls(StartLiveTailCommand)[0].args[0].input).toEqual({
      logGroupIdentifiers: [arnOf(GROUP)],
      logEventFilterPattern: '"o"',
    });
  });

  it('stops cleanly on Ctrl-C while reading the past (exit 0, no error)', async () => {
    // Prepare
    groupsExist();
    const stop = new AbortController();
    logs.on(FilterLogEventsCommand).callsFake(() => {
      stop.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });

    // Act
    const ran = await run(['processTicker', '--since', '1d'], { stop: stop.signal });

    // Assess
    expect(ran).toMatchObject({ code: 0, out: [], err: [] });
    const [, options] = logs.commandCalls(FilterLogEventsCommand)[0].args as unknown[];
    expect((options as { abortSignal?: AbortSignal }).abortSignal).toBe(stop.signal);
  });

  it('says in one line that an expired AWS session must be refreshed (exit 2)', async () => {
    // Prepare
    groupsExist();
    logs.on(FilterLogEventsCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    );

    // Act
    const ran = await run(['processTicker']);

    // Assess
    expect(ran.code).toBe(2);
    expect(ran.err).toHaveLength(1);
    expect(ran.err[0]).toContain('session has expired');
    expect(ran.err[0]).toContain('aws sso login');
  });

  it('exits 2 in one line for no credentials, a missing log group, an unknown function or stage', async () => {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    const missing = await run(['checkFreshness', '--stage', 'prod']);
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([
      expect.stringContaining(
        'Log group /aws/lambda/zsmseven-backend-processing-api-prod-checkFreshness does not exist',
      ),
    ]);

    logs.reset();
    logs.on(DescribeLogGroupsCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const noCreds = await run(['processTickers']);
    expect(noCreds.code).toBe(2);
    expect(noCreds.err).toEqual([
      'no AWS credentials: set AWS_PROFILE (or run "aws sso login"), or read a local run in .local/logs/local-run.log.',
    ]);

    const unknown = await run(['processEverything']);
    expect(unknown).toMatchObject({ code: 2, err: [expect.stringContaining('Unknown function')] });
    const stage = await run(['processTicker', '--stage', 'qa']);
    expect(stage).toMatchObject({ code: 2, err: [expect.stringContaining('Unknown stage "qa"')] });
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });
});
