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
  /** How long the source queue keeps a message, days (see {@link DLQ_RETENTION_DAYS}). */
  readonly retentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Retention of every DLQ: 14 days, SQS's maximum. SQS keeps a message's original enqueue time
 * when it moves it to the DLQ, so the DLQ's retention must be longer than the source's, or a
 * message that waited in the source expires early in the DLQ: with a 4-day source a failed
 * message still has at least 10 days in the DLQ to be looked at and redriven.
 */
export const DLQ_RETENTION_DAYS = 14;

/** An SQS work queue with its dead-letter queue: SSE, TLS-only, DLQ retention > the source's. */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    if (props.maxReceiveCount < 5) {
      throw new Error(`${id}: maxReceiveCount must be at least 5 (got ${props.maxReceiveCount}).`);
    }
    const visibilitySeconds = props.consumerTimeout.toSeconds() * 6;
    // A message's longest life in the source: the 900-s maximum delay, then every receive
    // waiting out the visibility timeout before it is dead-lettered.
    const longestLifeSeconds = 900 + props.maxReceiveCount * visibilitySeconds;
    if (props.retentionDays * 86_400 <= longestLifeSeconds) {
      throw new Error(
        `${id}: retentionDays ${props.retentionDays} is too short: a message can live ${longestLifeSeconds} s ` +
          `(900-s delay + ${props.maxReceiveCount} receives × ${visibilitySeconds}-s visibility) before it is dead-lettered.`,
      );
    }
    if (props.retentionDays >= DLQ_RETENTION_DAYS) {
      throw new Error(
        `${id}: retentionDays ${props.retentionDays} must be shorter than the DLQ's ${DLQ_RETENTION_DAYS} days ` +
          '(SQS keeps the original enqueue time when it dead-letters a message).',
      );
    }
    this.dlq = new sqs.Queue(this, 'Dlq', {
      queueName: props.dlqName,
      retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      // Lambda's guidance for SQS sources: at least 6 × the function timeout, so a batch being
      // retried by the poller is never handed to a second consumer mid-flight.
      visibilityTimeout: Duration.seconds(visibilitySeconds),
      retentionPeriod: Duration.days(props.retentionDays),
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
