/**
 * Three projects run by `npm test`:
 * - infra: synthesises every stage and asserts on the templates (bundling skipped).
 * - lambdas: handler/core/adapter unit tests plus integration tests against real local
 *   services (dynalite DynamoDB, local-aws-sqs SQS where needed, our Polygon/xAI simulators).
 * - faults: whole nights with one injected fault each (`npm run test:faults`); rewrites FAULTS.md.
 * ts-jest only transpiles (tsconfig isolatedModules); `npm run typecheck` type-checks the whole tree.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const common = {
  testEnvironment: 'node',
  transform,
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'infra',
      testMatch: ['<rootDir>/test/infra/**/*.test.ts'],
      snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.ts'],
    },
    {
      ...common,
      displayName: 'lambdas',
      testMatch: ['<rootDir>/test/lambdas/**/*.test.ts', '<rootDir>/test/sim/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/faults/global-setup.ts',
      globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
    },
  ],
};
