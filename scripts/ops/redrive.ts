import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The two work queues, by the short names operators type. */
export const QUEUES = {
  ticker: { queue: 'ticker-processing-queue', dlq: 'ticker-processing-dlq' },
  analysis: { queue: 'portfolio-analysis-queue', dlq: 'portfolio-analysis-dlq' },
} as const;

export type QueueKey = keyof typeof QUEUES;

export interface RedriveOptions {
  readonly client: SQSClient;
  readonly queue: QueueKey;
  readonly stage: string;
  /** Messages moved per second (SQS MaxNumberOfMessagesPerSecond). A ticker job is a whole refresh. */
  readonly ratePerSecond: number;
  readonly print: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pollMs?: number;
  /** Give up polling (the task keeps running in SQS) after this long. */
  readonly timeoutMs?: number;
}

export interface RedriveResult {
  readonly status: string;
  readonly moved: number;
  readonly toMove?: number;
  readonly taskHandle?: string;
}

/**
 * Moves a DLQ's messages back to the queue they came from with an SQS message move task, at a
 * slow rate so that redriven refresh jobs do not crowd the Polygon budget, and reports progress
 * until the task completes. Uses SQS's own redrive (no receive/delete loop that could lose or
 * duplicate messages).
 */
export async function redrive(opts: RedriveOptions): Promise<RedriveResult> {
  if (!Number.isInteger(opts.ratePerSecond) || opts.ratePerSecond < 1 || opts.ratePerSecond > 500) {
    throw new Error(
      `--rate must be an integer from 1 to 500 messages per second (got ${opts.ratePerSecond})`,
    );
  }
  const names = QUEUES[opts.queue];
  const arnOf = async (name: string) => {
    const { QueueUrl } = await opts.client.send(new GetQueueUrlCommand({ QueueName: name }));
    const attrs = await opts.client.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'],
      }),
    );
    return {
      arn: attrs.Attributes!.QueueArn!,
      waiting: Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0),
    };
  };
  const dlq = await arnOf(`${names.dlq}-${opts.stage}`);
  const source = await arnOf(`${names.queue}-${opts.stage}`);
  if (dlq.waiting === 0) {
    opts.print(`${names.dlq}-${opts.stage} is empty: nothing to redrive.`);
    return { status: 'EMPTY', moved: 0, toMove: 0 };
  }
  opts.print(
    `Moving ~${dlq.waiting} message(s) from ${names.dlq}-${opts.stage} to ${names.queue}-${opts.stage} at ${opts.ratePerSecond}/s`,
  );
  const started = await opts.client.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.arn,
      DestinationArn: source.arn,
      MaxNumberOfMessagesPerSecond: opts.ratePerSecond,
    }),
  );
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.timeoutMs ?? 3_600_000);
  for (;;) {
    const { Results } = await opts.client.send(
      new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 1 }),
    );
    const task = Results?.find((t) => t.TaskHandle === started.TaskHandle) ?? Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task?.ApproximateNumberOfMessagesToMove;
    const status = task?.Status ?? 'UNKNOWN';
    opts.print(`${status}: ${moved}${toMove !== undefined ? ` / ${toMove}` : ''} moved`);
    if (status === 'FAILED') {
      throw new Error(
        `The move task failed: ${task?.FailureReason ?? 'no reason given'} (${moved} moved)`,
      );
    }
    if (status === 'COMPLETED' || status === 'CANCELLED')
      return { status, moved, toMove, taskHandle: started.TaskHandle };
    if (Date.now() > deadline) {
      opts.print('Still running; stopped watching (the task continues in SQS).');
      return { status, moved, toMove, taskHandle: started.TaskHandle };
    }
    await sleep(opts.pollMs ?? 5_000);
  }
}
