import type * as z from './zod';

/**
 * The one SQS batch loop of both queue consumers. Each record is parsed against the message
 * schema; a body that is not JSON or does not match is reported through `malformed` and
 * acknowledged (a retry cannot fix it); a readable one is processed in its own try/catch, and a
 * failure the consumer says to retry becomes a batch item failure (SQS partial batch response).
 *
 * Not Powertools' BatchProcessor: the flows stay free of Lambda event types and of an extra
 * bundled package, and the acknowledge-or-retry decision is the consumer's per error kind, which
 * BatchProcessor (any throw = retry) would need wrapped the same way.
 */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** The SQS partial batch response. */
export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** What was wrong with a body: `body is not JSON`, or up to five schema issues. */
export type MalformedProblem = string | string[];

/** Parses one message body; never throws. */
export function parseQueueMessage<T>(
  record: QueueRecord,
  schema: z.ZodMiniType<T>,
): { ok: true; message: T } | { ok: false; problem: MalformedProblem } {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, message: parsed.data };
  return {
    ok: false,
    problem: parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
  };
}

export interface BatchConsumer<T> {
  readonly schema: z.ZodMiniType<T>;
  /** Logs and counts a message that cannot be read; it is acknowledged. */
  readonly malformed: (record: QueueRecord, problem: MalformedProblem) => void;
  readonly process: (message: T, record: QueueRecord) => Promise<unknown>;
  /** Reports a failed message and says whether SQS should deliver it again. */
  readonly failed: (err: unknown, message: T, record: QueueRecord) => 'retry' | 'acknowledge';
}

/** Runs `records` one at a time through `consumer`; see the module comment. */
export async function processQueueBatch<T>(
  records: readonly QueueRecord[],
  consumer: BatchConsumer<T>,
): Promise<BatchResult> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of records) {
    const parsed = parseQueueMessage(record, consumer.schema);
    if (!parsed.ok) {
      consumer.malformed(record, parsed.problem);
      continue;
    }
    try {
      await consumer.process(parsed.message, record);
    } catch (err) {
      if (consumer.failed(err, parsed.message, record) === 'retry')
        batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
