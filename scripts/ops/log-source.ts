import {
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  StartLiveTailCommand,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';
import { filterPattern, matches, type LogEvent, type LogFilter } from './log-format';

/** A function's log group, by the name operators type. */
export interface LogTarget {
  /** The function name (shown before each line when several groups are read). */
  readonly label: string;
  readonly logGroupName: string;
}

/** A log group that does not exist (not deployed, or the function never ran). */
export class MissingLogGroupError extends Error {
  override readonly name = 'MissingLogGroupError';
}

/**
 * The ARN of each target's log group (StartLiveTail takes ARNs); a missing group is a
 * {@link MissingLogGroupError} naming it.
 */
export async function logGroupArns(
  client: CloudWatchLogsClient,
  targets: readonly LogTarget[],
): Promise<string[]> {
  return Promise.all(
    targets.map(async (t) => {
      const page = await client.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: t.logGroupName }),
      );
      const group = (page.logGroups ?? []).find((g) => g.logGroupName === t.logGroupName);
      const arn = group?.logGroupArn ?? group?.arn?.replace(/:\*$/, '');
      if (!arn)
        throw new MissingLogGroupError(
          `Log group ${t.logGroupName} does not exist: is the stage deployed (npm run deploy:<stage>), has ${t.label} run yet, and is --region right?`,
        );
      return arn;
    }),
  );
}

/** Every event of one group in the time range that passes the filter, all pages. */
async function fetchGroup(
  client: CloudWatchLogsClient,
  target: LogTarget,
  range: { readonly startTime: number; readonly endTime?: number },
  filter: LogFilter,
  signal?: AbortSignal,
): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new FilterLogEventsCommand({
        logGroupName: target.logGroupName,
        startTime: range.startTime,
        endTime: range.endTime,
        filterPattern: filterPattern(filter),
        nextToken,
      }),
      { abortSignal: signal },
    );
    for (const e of page.events ?? []) {
      const event = { timestamp: e.timestamp ?? 0, message: e.message ?? '', source: target.label };
      if (matches(event, filter)) events.push(event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * The events of every target since `startTime` (FilterLogEvents, paged), interleaved by time:
 * with `--correlation-id`, one night across every function.
 */
export async function fetchLogs(
  client: CloudWatchLogsClient,
  targets: readonly LogTarget[],
  range: { readonly startTime: number; readonly endTime?: number },
  filter: LogFilter,
  signal?: AbortSignal,
): Promise<LogEvent[]> {
  const groups = await Promise.all(
    targets.map((t) => fetchGroup(client, t, range, filter, signal)),
  );
  // A stable sort: events of one group keep the service's order on equal timestamps.
  return groups.flat().sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * Follows the targets live (StartLiveTail) until `signal` aborts, printing each event that passes
 * the filter. A live tail session ends after 3 hours (SessionTimeoutException): it is started again.
 * Resolves when stopped or when the service ends the stream; rejects on any other failure.
 */
export async function followLogs(opts: {
  readonly client: CloudWatchLogsClient;
  readonly targets: readonly LogTarget[];
  readonly arns: readonly string[];
  readonly filter: LogFilter;
  readonly signal: AbortSignal;
  readonly onEvent: (event: LogEvent) => void;
  readonly onNotice?: (line: string) => void;
}): Promise<void> {
  const labelOf = new Map<string, string>();
  opts.targets.forEach((t, i) => {
    labelOf.set(opts.arns[i], t.label);
    labelOf.set(t.logGroupName, t.label);
  });
  for (let again = true; again && !opts.signal.aborted;) {
    again = false;
    try {
      const { responseStream } = await opts.client.send(
        new StartLiveTailCommand({
          logGroupIdentifiers: [...opts.arns],
          logEventFilterPattern: filterPattern(opts.filter),
        }),
        { abortSignal: opts.signal },
      );
      for await (const update of responseStream ?? []) {
        if (update.SessionTimeoutException) {
          opts.onNotice?.('The live tail session ended after its 3 hours; starting a new one.');
          again = true;
          break;
        }
        if (update.SessionStreamingException) throw update.SessionStreamingException;
        for (const e of update.sessionUpdate?.sessionResults ?? []) {
          const id = e.logGroupIdentifier ?? '';
          const event = {
            timestamp: e.timestamp ?? 0,
            message: e.message ?? '',
            source: labelOf.get(id) ?? labelOf.get(id.replace(/:\*$/, '')) ?? id,
          };
          if (matches(event, opts.filter)) opts.onEvent(event);
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return;
      throw err;
    }
  }
}
