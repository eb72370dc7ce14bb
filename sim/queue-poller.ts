import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';

export interface DrainOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** The real handler, called with SQS events exactly as the Lambda poller builds them. */
  readonly handler: (event: SQSEvent, context: Context) => Promise<unknown>;
  readonly context: () => Context;
  readonly batchSize: number;
  /** Give up (and report what is left) after this long. */
  readonly timeoutMs: number;
  readonly onBatch?: (info: { records: number; failures: number; result: unknown }) => void;
}

/**
 * Plays the Lambda SQS poller locally: receives batches, invokes the handler, deletes the
 * records it did not report as batch item failures, and makes failed ones visible again at once
 * (a time-compressed visibility timeout; the local SQS moves them to the DLQ after maxReceiveCount).
 * Returns when the queue is empty, delayed messages included.
 */
export async function drainQueue(
  opts: DrainOptions,
): Promise<{ invocations: number; failures: number; leftOver: number }> {
  const deadline = Date.now() + opts.timeoutMs;
  let invocations = 0;
  let failures = 0;
  for (;;) {
    const out = await opts.client.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: opts.batchSize,
        WaitTimeSeconds: 1,
        AttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      const left = await depth(opts.client, opts.queueUrl);
      if (left === 0 || Date.now() > deadline) return { invocations, failures, leftOver: left };
      continue;
    }
    const event = toSqsEvent(messages, opts.queueUrl);
    invocations++;
    let failed: Set<string>;
    let result: unknown;
    try {
      result = await opts.handler(event, opts.context());
      const items =
        (result as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)
          ?.batchItemFailures ?? [];
      failed = new Set(items.map((i) => i.itemIdentifier));
    } catch {
      failed = new Set(messages.map((m) => m.MessageId!));
    }
    failures += failed.size;
    opts.onBatch?.({ records: messages.length, failures: failed.size, result });
    for (const m of messages) {
      if (failed.has(m.MessageId!)) {
        await opts.client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: opts.queueUrl,
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: 0,
          }),
        );
      } else {
        await opts.client.send(
          new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
        );
      }
    }
    if (Date.now() > deadline)
      return { invocations, failures, leftOver: await depth(opts.client, opts.queueUrl) };
  }
}

/** Messages visible, in flight and delayed. */
export async function depth(client: SQSClient, queueUrl: string): Promise<number> {
  const a = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const n = (k: string) => Number((a.Attributes as Record<string, string> | undefined)?.[k] ?? 0);
  return (
    n('ApproximateNumberOfMessages') +
    n('ApproximateNumberOfMessagesNotVisible') +
    n('ApproximateNumberOfMessagesDelayed')
  );
}

/** The SQS event the Lambda poller would build from received messages. */
export function toSqsEvent(messages: readonly Message[], queueUrl: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
        SenderId: m.Attributes?.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`,
      awsRegion: 'us-east-1',
    })),
  };
}
