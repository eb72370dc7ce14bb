import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { grouped } from './text';

/**
 * Most bytes of one message body we send: 262,144 (256 KiB), SQS's long-standing limit (queues
 * may now be configured for more, but this one holds on every queue). Every body is measured
 * before anything is sent, so an oversized one fails the caller with its size instead of being
 * refused by SQS halfway through a fan-out. A refresh job stays under it by construction (see
 * MAX_TICKERS_PER_JOB; test/faults/limits.faults.test.ts, case I01).
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Most entries of one SendMessageBatch (SQS's limit). The bodies of one batch must also add up to
 * at most {@link MAX_MESSAGE_BYTES}, so a batch holds fewer when its messages are large.
 */
export const MAX_BATCH_ENTRIES = 10;

/** Thrown before sending when a body is over {@link MAX_MESSAGE_BYTES}; nothing was sent. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';

  constructor(
    readonly bytes: number,
    readonly index?: number,
  ) {
    super(
      `A queue message${index === undefined ? '' : ` (#${index + 1})`} of ${grouped(bytes)} bytes exceeds the SQS limit of ${grouped(MAX_MESSAGE_BYTES)} bytes (MAX_MESSAGE_BYTES); nothing was sent. Split its work across smaller messages (a refresh job holds at most MAX_TICKERS_PER_JOB tickers).`,
    );
  }
}

export interface JobQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Rounds of re-sending failed batch entries. @default 3 */
  readonly attempts?: number;
}

/** Sends JSON job messages to one queue; nothing it is given is dropped without an error. */
export function createJobQueue(opts: JobQueueOptions) {
  const attempts = opts.attempts ?? 3;
  const encode = (body: unknown, index?: number) => {
    const text = JSON.stringify(body);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes, index);
    return { text, bytes };
  };

  /** Sends one message, optionally delayed (SQS allows 0-900 s; larger values are rejected here). */
  async function send(body: unknown, delaySeconds = 0): Promise<void> {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw new Error(`DelaySeconds must be an integer from 0 to 900 (got ${delaySeconds})`);
    }
    await opts.client.send(
      new SendMessageCommand({
        QueueUrl: opts.queueUrl,
        MessageBody: encode(body).text,
        DelaySeconds: delaySeconds,
      }),
    );
  }

  /**
   * Sends messages in batches (at most MAX_BATCH_ENTRIES entries and MAX_MESSAGE_BYTES of bodies
   * each), re-sending failed entries; returns the ones that still failed with SQS's reason (the
   * caller must report them, never ignore them). Every body is checked before the first is sent.
   */
  async function sendAll(
    bodies: readonly unknown[],
  ): Promise<{ sent: number; failed: { index: number; reason: string }[] }> {
    const encoded = bodies.map((body, index) => ({ index, ...encode(body, index) }));
    let sent = 0;
    const failed: { index: number; reason: string }[] = [];
    for (const batch of batches(encoded)) {
      let pending = batch.map((e) => ({ index: e.index, body: e.text }));
      let reasons = new Map<number, string>();
      for (let attempt = 0; attempt < attempts && pending.length > 0; attempt++) {
        const out = await opts.client.send(
          new SendMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: pending.map((p) => ({ Id: String(p.index), MessageBody: p.body })),
          }),
        );
        sent += out.Successful?.length ?? 0;
        const failedIds = new Set((out.Failed ?? []).map((f) => Number(f.Id)));
        reasons = new Map(
          (out.Failed ?? []).map((f) => [Number(f.Id), `${f.Code}: ${f.Message ?? ''}`]),
        );
        pending = pending.filter((p) => failedIds.has(p.index));
      }
      for (const p of pending)
        failed.push({ index: p.index, reason: reasons.get(p.index) ?? 'unknown' });
    }
    return { sent, failed };
  }

  return { send, sendAll };
}

export type JobQueue = ReturnType<typeof createJobQueue>;

/** Consecutive groups of at most MAX_BATCH_ENTRIES entries whose bodies fit MAX_MESSAGE_BYTES. */
function batches<T extends { bytes: number }>(entries: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length === MAX_BATCH_ENTRIES || bytes + e.bytes > MAX_MESSAGE_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
