import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type { StageConfig } from '../config/stages';
import { functionSpec, type FunctionName } from '../functions';
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
    const source = new lambdaEventSources.SqsEventSource(this.workQueue.queue, {
      batchSize: consumerConfig.batchSize,
      maxConcurrency: consumerConfig.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.consumer.addEventSource(source);
    if (functionSpec(producer).grants.consumerScaling) this.letProducerScale(source);
    schedules.add(spec.rule.id, {
      description: `${spec.rule.what} (${config.stage})`,
      schedule: config.schedules[spec.rule.schedule],
      target: this.producer,
    });
  }

  /**
   * The producer sets the consumer's maximum concurrency for the night (issue 17: derived from
   * the work, lambdas/analysis/throughput.ts): it gets the mapping's UUID and may update that one
   * mapping, nothing else. The template's `maxConcurrency` is the floor a deploy starts from.
   */
  private letProducerScale(source: lambdaEventSources.SqsEventSource): void {
    this.producer.addEnvironment('ANALYSIS_EVENT_SOURCE_MAPPING_ID', source.eventSourceMappingId);
    this.producer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:UpdateEventSourceMapping'],
        resources: [source.eventSourceMappingArn],
      }),
    );
  }
}
