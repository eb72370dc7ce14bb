import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { redrive } from '../../../scripts/ops/redrive';

const sqs = mockClient(SQSClient);
const arn = (name: string) => `arn:aws:sqs:us-east-1:123456789012:${name}`;

function queues(dlqDepth: number) {
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({
    QueueUrl: `https://sqs.us-east-1.amazonaws.com/123456789012/${input.QueueName}`,
  }));
  sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => {
    const name = input.QueueUrl.split('/').pop()!;
    return {
      Attributes: {
        QueueArn: arn(name),
        ApproximateNumberOfMessages: name.includes('dlq') ? String(dlqDepth) : '0',
      },
    };
  });
}

describe('redrive', () => {
  beforeEach(() => sqs.reset());

  it('starts a move task from the stage DLQ to its source queue at the given rate and reports progress to completion', async () => {
    // Prepare
    queues(3);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 1,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      })
      .resolves({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'COMPLETED',
            ApproximateNumberOfMessagesMoved: 3,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      });
    const lines: string[] = [];

    // Act
    const result = await redrive({
      client: new SQSClient({}),
      queue: 'ticker',
      stage: 'prod',
      ratePerSecond: 1,
      print: (l) => lines.push(l),
      sleep: async () => {},
    });

    // Assess
    expect(result).toEqual({ status: 'COMPLETED', moved: 3, toMove: 3, taskHandle: 'task-1' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).toEqual({
      SourceArn: arn('ticker-processing-dlq-prod'),
      DestinationArn: arn('ticker-processing-queue-prod'),
      MaxNumberOfMessagesPerSecond: 1,
    });
    expect(lines).toEqual([
      'Moving ~3 message(s) from ticker-processing-dlq-prod to ticker-processing-queue-prod at 1/s',
      'RUNNING: 1 / 3 moved',
      'COMPLETED: 3 / 3 moved',
    ]);
  });

  it('does nothing when the DLQ is empty', async () => {
    queues(0);
    const result = await redrive({
      client: new SQSClient({}),
      queue: 'analysis',
      stage: 'dev',
      ratePerSecond: 1,
      print: () => {},
    });
    expect(result.status).toBe('EMPTY');
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('fails with the task failure reason', async () => {
    queues(2);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [{ TaskHandle: 't', Status: 'FAILED', FailureReason: 'AccessDenied' }],
    });
    await expect(
      redrive({
        client: new SQSClient({}),
        queue: 'analysis',
        stage: 'dev',
        ratePerSecond: 2,
        print: () => {},
        sleep: async () => {},
      }),
    ).rejects.toThrow('The move task failed: AccessDenied');
  });

  it.each([0, 1.5, 501])('rejects a rate of %p before calling SQS', async (rate) => {
    await expect(
      redrive({
        client: new SQSClient({}),
        queue: 'ticker',
        stage: 'dev',
        ratePerSecond: rate,
        print: () => {},
      }),
    ).rejects.toThrow('--rate must be');
    expect(sqs.calls()).toHaveLength(0);
  });
});
