import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addStage } from '../../lib/app-builder';
import { stages, type StageName, type StageConfig } from '../../lib/config/stages';
import type { ServiceStack } from '../../lib/stacks/service-stack';

/**
 * cdk.json's context (feature flags included), which the CLI passes to `bin/app.ts` and a bare
 * `new App()` would not see: tests synthesize what `cdk deploy` deploys.
 */
const cdkContext = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** Synthesizes one stage from its real config, with bundling skipped (esbuild is not run). */
export function synthStage(
  stage: StageName,
  override: Partial<StageConfig> = {},
): { app: App; stack: ServiceStack; template: Template } {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = addStage(app, { ...stages[stage], ...override }, '123456789012');
  return { app, stack, template: Template.fromStack(stack) };
}
