import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /** Physical queue name (a contract); the DLQ is named with `dlqName`. */
  readonly queueName: string;
  readonly dlqName: string;
  /** Timeout of the consuming function: the visibility timeout is 6 × this (AWS guidance). */
  readonly consumerTimeout: Duration;
  /** Receives before a message is moved to the DLQ. */
  readonly maxReceiveCount: number;
  readonly removalPolicy: RemovalPolicy;
}

/** An SQS work queue with its dead-letter queue: SSE, TLS-only, 14-day retention. */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    if (props.maxReceiveCount < 5) {
      throw new Error(`${id}: maxReceiveCount must be at least 5 (got ${props.maxReceiveCount}).`);
    }
    this.dlq = new sqs.Queue(this, 'Dlq', {
      queueName: props.dlqName,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      // Lambda's guidance for SQS sources: at least 6 × the function timeout, so a batch being
      // retried by the poller is never handed to a second consumer mid-flight.
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });
  }

  /** Messages waiting in the DLQ (maximum over 1 minute). */
  public dlqDepth(): cloudwatch.IMetric {
    return this.dlq.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
  }
}
