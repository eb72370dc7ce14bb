import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { DLQ_RETENTION_DAYS, WorkQueue } from '../../lib/constructs/work-queue';

const props = {
  queueName: 'q',
  dlqName: 'q-dlq',
  consumerTimeout: Duration.seconds(900),
  maxReceiveCount: 5,
  removalPolicy: RemovalPolicy.DESTROY,
};

describe('WorkQueue retention', () => {
  it('refuses a source retention not shorter than the DLQ retention', () => {
    expect(
      () => new WorkQueue(new Stack(), 'Q', { ...props, retentionDays: DLQ_RETENTION_DAYS }),
    ).toThrow(/must be shorter than the DLQ's 14 days/);
  });

  it("refuses a source retention shorter than a message's longest life before the DLQ", () => {
    // 900 s + 20 receives × 5,400 s visibility = 108,900 s, over a day.
    expect(
      () =>
        new WorkQueue(new Stack(), 'Q', {
          ...props,
          maxReceiveCount: 20,
          retentionDays: 1,
        }),
    ).toThrow(/retentionDays 1 is too short: a message can live 108900 s/);
  });

  it('accepts the configured 4 days', () => {
    const q = new WorkQueue(new Stack(), 'Q', { ...props, retentionDays: 4 });
    expect(q.queue).toBeDefined();
  });
});
