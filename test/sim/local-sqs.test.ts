import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { startLocalSqs, type LocalSqs } from '../../sim/local-sqs';
import { depth, drainQueue } from '../../sim/queue-poller';
import { lambdaContext } from '../../scripts/lib/lambda-runtime';

/**
 * The local SQS (local-aws-sqs with the shims of sim/sqs-server.ts) behaves like SQS wherever the
 * service, the poller, the fault suite and the redrive script rely on it.
 */
let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs.close());

let n = 0;
const freshQueue = () => sqs.createQueue(`local-sqs-queue-test${++n}`);
const send = (QueueUrl: string, MessageBody: string, DelaySeconds?: number) =>
  sqs.client.send(new SendMessageCommand({ QueueUrl, MessageBody, DelaySeconds }));
const receive = (QueueUrl: string, MaxNumberOfMessages: number, WaitTimeSeconds: number) =>
  sqs.client
    .send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages,
        WaitTimeSeconds,
        AttributeNames: ['All'],
      }),
    )
    .then((out) => out.Messages ?? []);
const context = () =>
  lambdaContext({
    functionName: 'local-sqs-test',
    timeoutSeconds: 30,
    memoryMb: 128,
    region: 'us-east-1',
  });

describe('local SQS', () => {
  it('rejects a DelaySeconds over 900 as SQS does, in a SendMessage and in a batch entry', async () => {
    // Prepare
    const { queueUrl } = await freshQueue();

    // Act
    const single = await send(queueUrl, 'late', 901).catch((err: Error) => err);
    const batch = await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ok', MessageBody: 'at the limit', DelaySeconds: 900 },
          { Id: 'late', MessageBody: 'over the limit', DelaySeconds: 901 },
        ],
      }),
    );

    // Assess
    expect(single).toBeInstanceOf(Error);
    expect((single as Error).name).toBe('InvalidParameterValue');
    expect((single as Error).message).toContain('DelaySeconds');
    expect(batch.Successful?.map((s) => s.Id)).toEqual(['ok']);
    expect(batch.Failed?.map((f) => [f.Id, f.Code])).toEqual([['late', 'InvalidParameterValue']]);
  });

  it('holds a delayed message back until its delay is over', async () => {
    // Prepare
    const { queueUrl } = await freshQueue();

    // Act
    await send(queueUrl, 'later', 1);
    const early = await receive(queueUrl, 1, 0);
    const delayed = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const late = await receive(queueUrl, 1, 3);

    // Assess
    expect(early).toEqual([]);
    expect(delayed.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
    expect(late.map((m) => m.Body)).toEqual(['later']);
  });

  it('answers a long poll as soon as a message is there, without waiting for a full batch', async () => {
    // Prepare
    const { queueUrl } = await freshQueue();
    await send(queueUrl, 'one');

    // Act: a 20-s wait for up to 10 messages (the test's own timeout is 10 s).
    const got = await receive(queueUrl, 10, 20);

    // Assess
    expect(got.map((m) => m.Body)).toEqual(['one']);
  }, 10_000);

  it('dead-letters a message that keeps failing after exactly 5 receives, counting each once', async () => {
    // Prepare
    const { queueUrl, dlqUrl } = await freshQueue();
    await send(queueUrl, 'poison');
    const counts: string[] = [];

    // Act: the Lambda-style poller releases each failed message with VisibilityTimeout 0.
    const drained = await drainQueue({
      client: sqs.client,
      queueUrl,
      handler: async (event) => {
        counts.push(event.Records[0].attributes.ApproximateReceiveCount);
        return { batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] };
      },
      context,
      batchSize: 1,
      timeoutMs: 20_000,
    });
    const dead = await receive(dlqUrl, 10, 1);

    // Assess
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    expect(drained).toEqual({ invocations: 5, failures: 5, leftOver: 0 });
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
  }, 30_000);

  it('purges a queue and its DLQ at once, visible, in-flight and delayed messages alike, keeping the URLs and the redrive', async () => {
    // Prepare
    const { queueUrl, dlqUrl } = await freshQueue();
    await send(queueUrl, 'visible');
    await send(queueUrl, 'in flight');
    await send(queueUrl, 'delayed', 900);
    await send(dlqUrl, 'dead');
    await receive(queueUrl, 1, 0);

    // Act
    await sqs.purge(queueUrl);
    await sqs.purge(dlqUrl);
    const after = [await depth(sqs.client, queueUrl), await depth(sqs.client, dlqUrl)];
    await sqs.purge(queueUrl); // again at once (SQS allows one purge a minute)
    await send(queueUrl, 'next');
    const redrive = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );

    // Assess
    expect(after).toEqual([0, 0]);
    expect((await receive(queueUrl, 10, 1)).map((m) => m.Body)).toEqual(['next']);
    expect(JSON.parse(redrive.Attributes!.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: expect.stringMatching(/:local-sqs-dlq-test\d+$/),
      maxReceiveCount: 5,
    });
    await expect(sqs.purge(`${queueUrl}-unknown`)).rejects.toThrow('was not created');
  });

  it('runs in its own process when asked, and stops it on close', async () => {
    // Prepare
    const own = await startLocalSqs({ ownProcess: true });

    // Act
    let body: string | undefined;
    try {
      const { queueUrl } = await own.createQueue('own-process-queue-test');
      await own.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'there' }));
      const out = await own.client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
      );
      body = out.Messages?.[0]?.Body;
    } finally {
      await own.close();
    }

    // Assess
    expect(body).toBe('there');
    await expect(fetch(own.endpoint)).rejects.toThrow();
  }, 30_000);
});
