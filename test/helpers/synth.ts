import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addStage } from '../../lib/app-builder';
import { stages, type StageName, type StageConfig } from '../../lib/config/stages';
import type { ServiceStack } from '../../lib/stacks/service-stack';

/** Synthesizes one stage from its real config, with bundling skipped (esbuild is not run). */
export function synthStage(
  stage: StageName,
  override: Partial<StageConfig> = {},
): { app: App; stack: ServiceStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = addStage(app, { ...stages[stage], ...override }, '123456789012');
  return { app, stack, template: Template.fromStack(stack) };
}
