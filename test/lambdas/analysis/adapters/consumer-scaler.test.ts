import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createConsumerScaler } from '../../../../lambdas/analysis/adapters/consumer-scaler';

const lambda = mockClient(LambdaClient);

describe('createConsumerScaler', () => {
  beforeEach(() => lambda.reset());

  it('sets ScalingConfig.MaximumConcurrency of its one mapping', async () => {
    // Prepare
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const scaler = createConsumerScaler({ client: new LambdaClient({}), mappingId: 'uuid-1' });

    // Act
    await scaler.setMaximumConcurrency(42);

    // Assess
    expect(
      lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input),
    ).toEqual([{ UUID: 'uuid-1', ScalingConfig: { MaximumConcurrency: 42 } }]);
  });

  it.each([1, 1001, 2.5])(
    'refuses %p, outside what Lambda accepts, without calling it',
    async (c) => {
      // Prepare
      const scaler = createConsumerScaler({ client: new LambdaClient({}), mappingId: 'uuid-1' });

      // Act / Assess
      await expect(scaler.setMaximumConcurrency(c)).rejects.toThrow(/from 2 to 1000/);
      expect(lambda.calls()).toHaveLength(0);
    },
  );
});
