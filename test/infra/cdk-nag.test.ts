import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageName } from '../../lib/config/stages';
import { synthStage } from '../helpers/synth';

describe.each(['dev', 'prod'] as StageName[])('cdk-nag AwsSolutions (%s)', (stage) => {
  it('reports no unacknowledged finding', () => {
    // Prepare
    const { stack } = synthStage(stage);

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('would report a finding the stack does not acknowledge (the check is live)', () => {
    // Prepare: a wildcard grant added to one role must be flagged, proving the pack runs.
    const { stack } = synthStage(stage);
    const fn = stack.functions.processTickers;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});
