import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { redrive } from '../../../scripts/ops/redrive';
import { lambdaContext } from '../../../scripts/lib/lambda-runtime';
import { startLocalSqs, type LocalSqs } from '../../../sim/local-sqs';
import { depth, drainQueue } from '../../../sim/queue-poller';

/**
 * The redrive script against the local SQS: a real StartMessageMoveTask from the stage's DLQ back
 * to its queue, watched through ListMessageMoveTasks until it completes.
 */
let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs.close());

const context = () =>
  lambdaContext({
    functionName: 'redrive-test',
    timeoutSeconds: 30,
    memoryMb: 128,
    region: 'us-east-1',
  });

describe('redrive against the local SQS', () => {
  it('moves the messages a failing consumer dead-lettered back to their queue, and then finds the DLQ empty', async () => {
    // Prepare: two jobs fail 5 times each and are dead-lettered, as deployed.
    const { queueUrl, dlqUrl } = await sqs.createQueue('ticker-processing-queue-redrive');
    for (const body of ['{"job":1}', '{"job":2}'])
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await drainQueue({
      client: sqs.client,
      queueUrl,
      handler: async (event) => ({
        batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
      }),
      context,
      batchSize: 1,
      timeoutMs: 30_000,
    });
    const deadBefore = await depth(sqs.client, dlqUrl);
    const lines: string[] = [];

    // Act
    const result = await redrive({
      client: sqs.client,
      queue: 'ticker',
      stage: 'redrive',
      ratePerSecond: 5,
      print: (l) => lines.push(l),
      pollMs: 250,
      timeoutMs: 20_000,
    });
    const again = await redrive({
      client: sqs.client,
      queue: 'ticker',
      stage: 'redrive',
      ratePerSecond: 5,
      print: (l) => lines.push(l),
    });
    const back = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );

    // Assess
    expect(deadBefore).toBe(2);
    expect(result).toMatchObject({ status: 'COMPLETED', moved: 2, toMove: 2 });
    expect(lines[0]).toBe(
      'Moving ~2 message(s) from ticker-processing-dlq-redrive to ticker-processing-queue-redrive at 5/s',
    );
    expect(lines).toContain('COMPLETED: 2 / 2 moved');
    expect(again).toEqual({ status: 'EMPTY', moved: 0, toMove: 0 });
    expect(await depth(sqs.client, dlqUrl)).toBe(0);
    expect(back.Messages?.map((m) => m.Body).sort()).toEqual(['{"job":1}', '{"job":2}']);
  }, 60_000);
});
