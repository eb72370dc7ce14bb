import { App, DefaultStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageConfig } from './config/stages';
import { ServiceStack } from './stacks/service-stack';

/** Stack name of a stage (distinct from the old Serverless stack `zsmseven-backend-processing-api-{stage}`). */
export const stackName = (stage: string) => `zsmseven-backend-processing-${stage}`;

/**
 * Adds one stage's stack to an app, with cdk-nag's AwsSolutions pack registered. Used by
 * bin/app.ts and by the infra tests, so both synthesize exactly the same thing.
 */
export function addStage(app: App, config: StageConfig, account?: string): ServiceStack {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return new ServiceStack(app, stackName(config.stage), {
    stackName: stackName(config.stage),
    env: { account: config.env.account ?? account, region: config.env.region },
    terminationProtection: config.removalPolicy === 'retain',
    // The stage's own bootstrap (roles, asset bucket, execution policy): docs/BOOTSTRAP.md.
    synthesizer: new DefaultStackSynthesizer({ qualifier: config.bootstrapQualifier }),
    description: `ZSM Seven backend processing (${config.stage}): nightly market data and Grok analysis`,
    config,
  });
}
