import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler, createSqsServer } from 'local-aws-sqs';

/**
 * The local SQS endpoint: `local-aws-sqs` (pure JavaScript, the SQS JSON and Query protocols),
 * so that a fresh machine needs nothing but Node. It validates like SQS where our code relies on
 * it (DelaySeconds 0-900, VisibilityTimeout 0-43200, RedrivePolicy, at most 10 batch entries),
 * delays and hides messages on real timers, dead-letters after maxReceiveCount and runs
 * StartMessageMoveTask / ListMessageMoveTasks (the redrive script). Its PurgeQueue behaves like
 * SQS's (records go within 60 s, one purge a minute), so tests empty a queue with
 * `LocalSqs.purge` instead (sim/local-sqs.ts).
 *
 * Two behaviours of local-aws-sqs 2.0.2 differ from SQS in ways our tests would see; the shims
 * below correct them (test/sim/local-sqs.test.ts checks both, so a release that changes the
 * internals they hook fails there):
 * - ChangeMessageVisibility counted as a receive (ApproximateReceiveCount + 1), so a message that
 *   a poller keeps releasing with VisibilityTimeout 0 was dead-lettered after 3 deliveries
 *   instead of maxReceiveCount (5). Here it keeps the count it was received with.
 * - A long poll (WaitTimeSeconds > 0) returned only once MaxNumberOfMessages messages were
 *   there or the wait was over (a 1-s wait for a batch of 1 of 10), where SQS returns as soon as
 *   any message is available. Here it returns within about 40 ms of one being available.
 * Not corrected (nothing of ours depends on it): ApproximateNumberOfMessages also counts messages
 * in flight, so `depth()` (sim/queue-poller.ts) counts an in-flight message twice; our code only
 * compares a depth with 0, or reads it once nothing is in flight.
 */

/** The parts of local-aws-sqs's (unexported) queue class the shims wrap. */
interface QueueRecord {
  readonly MessageId: string;
  readonly attributes: Record<string, string>;
}
interface ReceiveOptions {
  VisibilityTimeout?: number;
  WaitTimeSeconds?: number;
  MaxNumberOfMessages?: number;
}
interface QueuePrototype {
  receive: (this: QueueInstance, opts: ReceiveOptions) => Promise<QueueRecord[]>;
  changeVisibility: (this: QueueInstance, receiptHandle: string, timeout: unknown) => boolean;
  delete: (this: QueueInstance, receiptHandle: string) => boolean;
}
interface QueueInstance extends QueuePrototype {
  readonly ReceiveMessageWaitTimeSeconds: number;
}
interface QueueClass {
  readonly prototype: QueuePrototype;
  createRecord(...args: unknown[]): [QueueRecord, ...unknown[]];
}

const SHIMMED = Symbol.for('zsmseven.local-sqs.shimmed');

/** The message id inside a local-aws-sqs receipt handle (base64 of a UUID and a JSON object). */
function messageIdOf(receiptHandle: unknown): string | undefined {
  if (typeof receiptHandle !== 'string') return undefined;
  try {
    const text = Buffer.from(receiptHandle, 'base64').toString('utf8');
    const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown };
    return typeof parsed.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}

/** The queue class, from a throw-away service (it is not exported). */
function queueClass(): QueueClass {
  const { service } = createRequestHandler({ port: 0, queues: [{ QueueName: 'shim-probe' }] });
  const probe = service.Queues[0] as unknown as { constructor: QueueClass } | undefined;
  const cls = probe?.constructor;
  const proto = cls?.prototype as Partial<QueuePrototype> | undefined;
  if (
    !cls ||
    typeof cls.createRecord !== 'function' ||
    typeof proto?.receive !== 'function' ||
    typeof proto.changeVisibility !== 'function' ||
    typeof proto.delete !== 'function'
  ) {
    throw new Error(
      'local-aws-sqs no longer has the queue internals sim/sqs-server.ts corrects (createRecord, receive, changeVisibility, delete); check the shims against its new release',
    );
  }
  return cls;
}

/** Installs the two corrections described above, once per process. */
function installShims(): void {
  const cls = queueClass();
  const marked = cls as unknown as Record<symbol, boolean>;
  if (marked[SHIMMED]) return;
  marked[SHIMMED] = true;
  const proto = cls.prototype;

  // Every stored record, by message id, to restore its receive count after a visibility change.
  const records = new Map<string, QueueRecord>();
  const createRecord = cls.createRecord.bind(cls);
  cls.createRecord = (...args: unknown[]) => {
    const out = createRecord(...args);
    records.set(out[0].MessageId, out[0]);
    return out;
  };
  const changeVisibility = proto.changeVisibility;
  proto.changeVisibility = function (receiptHandle, timeout) {
    const id = messageIdOf(receiptHandle);
    const record = id === undefined ? undefined : records.get(id);
    const count = record?.attributes.ApproximateReceiveCount;
    const changed = changeVisibility.call(this, receiptHandle, timeout);
    if (record && count !== undefined) record.attributes.ApproximateReceiveCount = count;
    return changed;
  };
  const remove = proto.delete;
  proto.delete = function (receiptHandle) {
    const deleted = remove.call(this, receiptHandle);
    const id = messageIdOf(receiptHandle);
    if (id !== undefined) records.delete(id);
    return deleted;
  };

  // Long polls as short polls (each waits up to 40 ms for a full batch) until one returns a
  // message or the wait is over.
  const receive = proto.receive;
  proto.receive = async function (opts) {
    const waitSeconds = Number(opts.WaitTimeSeconds ?? this.ReceiveMessageWaitTimeSeconds ?? 0);
    const until = performance.now() + waitSeconds * 1000;
    for (;;) {
      const got = await receive.call(this, { ...opts, WaitTimeSeconds: 0 });
      if (got.length > 0 || performance.now() >= until) return got;
    }
  };
}

/** A running local SQS endpoint on loopback. */
export interface SqsServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts local-aws-sqs, corrected as above, in this process on a free loopback port. */
export async function startSqsServer(): Promise<SqsServer> {
  installShims();
  const server: Server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    region: 'us-east-1',
    // Tests delete and re-create queues at once, and use a queue as soon as it is created.
    emulateQueueCreationLifecycle: false,
    emulateLazyQueues: false,
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
