import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { ConsumerScaler } from '../ports';
import { MAX_EVENT_SOURCE_CONCURRENCY, MIN_EVENT_SOURCE_CONCURRENCY } from '../throughput';

/**
 * Sets `ScalingConfig.MaximumConcurrency` of one SQS event source mapping (the analysis
 * consumer's). The function's role may call UpdateEventSourceMapping on this mapping only
 * (lib/constructs/queue-pipeline.ts). The endpoint comes from the SDK's standard variables
 * (`AWS_ENDPOINT_URL_LAMBDA`), never from code.
 */
export function createConsumerScaler(opts: {
  readonly client: Pick<LambdaClient, 'send'>;
  readonly mappingId: string;
}): ConsumerScaler {
  return {
    async setMaximumConcurrency(concurrency: number): Promise<void> {
      if (
        !Number.isInteger(concurrency) ||
        concurrency < MIN_EVENT_SOURCE_CONCURRENCY ||
        concurrency > MAX_EVENT_SOURCE_CONCURRENCY
      ) {
        throw new Error(
          `MaximumConcurrency must be an integer from ${MIN_EVENT_SOURCE_CONCURRENCY} to ${MAX_EVENT_SOURCE_CONCURRENCY} (got ${concurrency})`,
        );
      }
      await opts.client.send(
        new UpdateEventSourceMappingCommand({
          UUID: opts.mappingId,
          ScalingConfig: { MaximumConcurrency: concurrency },
        }),
      );
    },
  };
}

/** The SDK client, created once per cold start. */
export const lambdaClient = (() => {
  let client: LambdaClient | undefined;
  return () => (client ??= new LambdaClient({ maxAttempts: 5 }));
})();
