import { Duration } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type { QueueConsumerConfig, ScheduleConfig } from '../config/stages';
import type { FunctionName } from '../functions';
import type { IngestSchedules } from './ingest-schedules';
import { createServiceFunction, type ServiceBase, type ServiceQueues } from './service-functions';
import { WorkQueue } from './work-queue';
import type { WorkerFunction } from './worker-function';

/** One scheduled fan-out: a producer queues work, a consumer takes it from the queue. */
export interface QueuePipelineSpec {
  /** Construct ID of the queue in the stack (`TickerQueue`): keeps its logical IDs. */
  readonly queueId: string;
  readonly queueName: string;
  readonly dlqName: string;
  /** Which of {@link ServiceQueues} the queue is to the functions (env URL and send grant). */
  readonly queueRole: keyof ServiceQueues;
  readonly consumerConfig: QueueConsumerConfig;
  readonly producer: FunctionName;
  readonly consumer: FunctionName;
  readonly rule: {
    readonly id: string;
    readonly description: string;
    readonly schedule: ScheduleConfig;
  };
}

/**
 * The shape both nightly pipelines share (market data, analysis): the work queue with its DLQ,
 * the scheduled producer, the consumer with its SQS event source (partial batch failures).
 * Not a Construct: everything is created in the stack's scope (see {@link ServiceBase.scope}).
 */
export class QueuePipeline {
  public readonly workQueue: WorkQueue;
  public readonly producer: WorkerFunction;
  public readonly consumer: WorkerFunction;

  constructor(base: ServiceBase, schedules: IngestSchedules, spec: QueuePipelineSpec) {
    this.workQueue = new WorkQueue(base.scope, spec.queueId, {
      queueName: spec.queueName,
      dlqName: spec.dlqName,
      consumerTimeout: Duration.seconds(base.config.functions[spec.consumer].timeoutSeconds),
      maxReceiveCount: spec.consumerConfig.maxReceiveCount,
      removalPolicy: base.removalPolicy,
    });
    const queues: ServiceQueues = { [spec.queueRole]: this.workQueue };
    this.producer = createServiceFunction(base, spec.producer, queues);
    this.consumer = createServiceFunction(base, spec.consumer, queues);
    this.consumer.addEventSource(
      new lambdaEventSources.SqsEventSource(this.workQueue.queue, {
        batchSize: spec.consumerConfig.batchSize,
        maxConcurrency: spec.consumerConfig.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    schedules.add(spec.rule.id, {
      description: spec.rule.description,
      schedule: spec.rule.schedule,
      target: this.producer,
    });
  }
}
