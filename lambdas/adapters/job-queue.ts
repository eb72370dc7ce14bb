import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS refuses bodies over 256 KiB; we check first so the error says which job was too big. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface JobQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Rounds of re-sending failed batch entries. @default 3 */
  readonly attempts?: number;
}

/** Sends JSON job messages to one queue; nothing it is given is dropped without an error. */
export function createJobQueue(opts: JobQueueOptions) {
  const attempts = opts.attempts ?? 3;
  const encode = (body: unknown) => {
    const text = JSON.stringify(body);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_MESSAGE_BYTES)
      throw new Error(
        `A job message of ${bytes} bytes exceeds the SQS limit of ${MAX_MESSAGE_BYTES}`,
      );
    return text;
  };

  /** Sends one message, optionally delayed (SQS allows 0-900 s; larger values are rejected here). */
  async function send(body: unknown, delaySeconds = 0): Promise<void> {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw new Error(`DelaySeconds must be an integer from 0 to 900 (got ${delaySeconds})`);
    }
    await opts.client.send(
      new SendMessageCommand({
        QueueUrl: opts.queueUrl,
        MessageBody: encode(body),
        DelaySeconds: delaySeconds,
      }),
    );
  }

  /**
   * Sends messages in batches of 10, re-sending failed entries; returns the ones that still
   * failed with SQS's reason (the caller must report them, never ignore them).
   */
  async function sendAll(
    bodies: readonly unknown[],
  ): Promise<{ sent: number; failed: { index: number; reason: string }[] }> {
    const encoded = bodies.map(encode);
    let sent = 0;
    const failed: { index: number; reason: string }[] = [];
    for (let i = 0; i < encoded.length; i += 10) {
      let pending = encoded.slice(i, i + 10).map((body, k) => ({ index: i + k, body }));
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
