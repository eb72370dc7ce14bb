import { Duration } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type { StageConfig } from '../config/stages';
import type { FunctionName } from '../functions';
import type { IngestSchedules } from './ingest-schedules';
import { createServiceFunction, type ServiceBase, type ServiceQueues } from './service-functions';
import { WorkQueue } from './work-queue';
import type { WorkerFunction } from './worker-function';

/**
 * One scheduled fan-out: a producer queues work, a consumer takes it from the queue. Everything
 * else (queue settings, schedule, environment, grants) comes from the stage config and
 * lib/functions.ts.
 */
export interface QueuePipelineSpec {
  /**
   * `id`: construct ID of the queue in the stack (`TickerQueue`, keeps its logical IDs); `name`:
   * the physical names are `<name>-queue-<stage>` and `<name>-dlq-<stage>`; `role`: which queue
   * it is to the functions (environment URL, send grant) and to the stage config (consumer
   * settings).
   */
  readonly queue: {
    readonly id: string;
    readonly name: string;
    readonly role: keyof ServiceQueues;
  };
  /** Producer (scheduled), then consumer (SQS event source). */
  readonly functions: readonly [FunctionName, FunctionName];
  /** `id`: construct ID of the rule under `Schedules`; `what`: its description, before the stage. */
  readonly rule: {
    readonly id: string;
    readonly schedule: keyof StageConfig['schedules'];
    readonly what: string;
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
    const { config } = base;
    const [producer, consumer] = spec.functions;
    const consumerConfig = config[spec.queue.role];
    this.workQueue = new WorkQueue(base.scope, spec.queue.id, {
      queueName: `${spec.queue.name}-queue-${config.stage}`,
      dlqName: `${spec.queue.name}-dlq-${config.stage}`,
      consumerTimeout: Duration.seconds(config.functions[consumer].timeoutSeconds),
      maxReceiveCount: consumerConfig.maxReceiveCount,
      retentionDays: consumerConfig.retentionDays,
      removalPolicy: base.removalPolicy,
    });
    const queues: ServiceQueues = { [spec.queue.role]: this.workQueue };
    this.producer = createServiceFunction(base, producer, queues);
    this.consumer = createServiceFunction(base, consumer, queues);
    this.consumer.addEventSource(
      new lambdaEventSources.SqsEventSource(this.workQueue.queue, {
        batchSize: consumerConfig.batchSize,
        maxConcurrency: consumerConfig.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    schedules.add(spec.rule.id, {
      description: `${spec.rule.what} (${config.stage})`,
      schedule: config.schedules[spec.rule.schedule],
      target: this.producer,
    });
  }
}
