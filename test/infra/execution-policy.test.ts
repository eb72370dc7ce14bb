import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { stackName } from '../../lib/app-builder';
import { stages, type StageName } from '../../lib/config/stages';
import { synthStage } from '../helpers/synth';

/**
 * docs/cfn-execution-policy.json is the managed policy a stage's CloudFormation execution role
 * gets where dev and prod share an account (docs/BOOTSTRAP.md). This test plays every resource
 * of both stages' templates against it: a new resource type (or a new name outside the stage's
 * prefixes) fails here, before a deploy fails half-way.
 */
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}
interface Resource {
  Type: string;
  Properties?: Record<string, any>;
}

const policyText = readFileSync(
  path.join(__dirname, '..', '..', 'docs', 'cfn-execution-policy.json'),
  'utf8',
);

function policyFor(stage: StageName): Statement[] {
  const text = policyText
    .replaceAll('ACCOUNT_ID', ACCOUNT)
    .replaceAll('QUALIFIER', stages[stage].bootstrapQualifier)
    .replaceAll('STAGE', stage);
  return (JSON.parse(text) as { Statement: Statement[] }).Statement;
}

/** IAM's wildcard match (`*` any run of characters, `?` one), actions case-insensitively. */
const glob = (pattern: string, value: string, flags = '') =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  ).test(value);

const allows = (policy: Statement[], action: string, arn: string) =>
  policy.some(
    (s) =>
      s.Effect === 'Allow' &&
      [s.Action].flat().some((a) => glob(a, action, 'i')) &&
      [s.Resource].flat().some((r) => glob(r, arn)),
  );

/** A name CloudFormation generates for a resource without one: `<stack>-<logicalId>-<random>`. */
const generated = (stage: StageName, logicalId: string) =>
  `${stackName(stage)}-${logicalId}-ABCDEF123456`.slice(0, 64);

const named = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);

/** What CloudFormation does for each resource type, and on which ARN. */
const NEEDS: Record<
  string,
  (stage: StageName, id: string, r: Resource) => { actions: string[]; arns: string[] }
> = {
  'AWS::Lambda::Function': (_stage, id, r) => ({
    actions: ['lambda:CreateFunction', 'lambda:UpdateFunctionCode', 'lambda:DeleteFunction'],
    arns: [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${named(r.Properties?.FunctionName, id)}`],
  }),
  'AWS::Lambda::Permission': (stage) => ({
    actions: ['lambda:AddPermission', 'lambda:RemovePermission'],
    arns: [
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:zsmseven-backend-processing-api-${stage}-x`,
    ],
  }),
  // Allowed on "*" only for this stage's functions (a condition this test does not evaluate).
  'AWS::Lambda::EventSourceMapping': () => ({
    actions: ['lambda:CreateEventSourceMapping', 'lambda:DeleteEventSourceMapping'],
    arns: ['*'],
  }),
  'AWS::IAM::Role': (stage, id) => ({
    actions: ['iam:CreateRole', 'iam:DeleteRole', 'iam:PassRole'],
    arns: [`arn:aws:iam::${ACCOUNT}:role/${generated(stage, id)}`],
  }),
  'AWS::IAM::Policy': (stage, id) => ({
    actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
    arns: [`arn:aws:iam::${ACCOUNT}:role/${generated(stage, id)}`],
  }),
  'AWS::DynamoDB::Table': (stage, id, r) => ({
    actions: ['dynamodb:CreateTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:DeleteTable'],
    arns: [
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${named(r.Properties?.TableName, generated(stage, id))}`,
    ],
  }),
  'AWS::SQS::Queue': (stage, id, r) => ({
    actions: ['sqs:CreateQueue', 'sqs:SetQueueAttributes', 'sqs:DeleteQueue'],
    arns: [
      `arn:aws:sqs:${REGION}:${ACCOUNT}:${named(r.Properties?.QueueName, generated(stage, id))}`,
    ],
  }),
  'AWS::SQS::QueuePolicy': (stage) => ({
    actions: ['sqs:SetQueueAttributes'],
    arns: [`arn:aws:sqs:${REGION}:${ACCOUNT}:ticker-processing-dlq-${stage}`],
  }),
  'AWS::SNS::Topic': (stage, id) => ({
    actions: ['sns:CreateTopic', 'sns:DeleteTopic'],
    arns: [`arn:aws:sns:${REGION}:${ACCOUNT}:${generated(stage, id)}`],
  }),
  'AWS::SNS::TopicPolicy': (stage) => ({
    actions: ['sns:SetTopicAttributes'],
    arns: [`arn:aws:sns:${REGION}:${ACCOUNT}:${generated(stage, 'AlarmTopic')}`],
  }),
  'AWS::Events::Rule': (stage, id) => ({
    actions: ['events:PutRule', 'events:PutTargets', 'events:DeleteRule'],
    arns: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${generated(stage, id)}`],
  }),
  'AWS::CloudWatch::Alarm': (stage, id, r) => ({
    actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
    arns: [
      `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${named(r.Properties?.AlarmName, generated(stage, id))}`,
    ],
  }),
  'AWS::CloudWatch::Dashboard': (_stage, id, r) => ({
    actions: ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards'],
    arns: [`arn:aws:cloudwatch::${ACCOUNT}:dashboard/${named(r.Properties?.DashboardName, id)}`],
  }),
  'AWS::Logs::LogGroup': (_stage, id, r) => ({
    actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup'],
    arns: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${named(r.Properties?.LogGroupName, id)}`],
  }),
};

describe.each(['dev', 'prod'] as StageName[])('CloudFormation execution policy (%s)', (stage) => {
  const policy = policyFor(stage);
  const resources = Object.entries(
    synthStage(stage).template.toJSON().Resources as Record<string, Resource>,
  );

  it('covers every resource type of the stack', () => {
    const types = [...new Set(resources.map(([, r]) => r.Type))].sort();
    const uncovered = types.filter((t) => !(t in NEEDS) && t !== 'AWS::CDK::Metadata');
    // A new type: add its actions to docs/cfn-execution-policy.json (scoped to the stage) and here.
    expect(uncovered).toEqual([]);
  });

  it('allows what CloudFormation does to each resource, on its name', () => {
    const denied: string[] = [];
    for (const [id, r] of resources) {
      const need = NEEDS[r.Type]?.(stage, id, r);
      for (const action of need?.actions ?? []) {
        for (const arn of need.arns) {
          if (!allows(policy, action, arn)) denied.push(`${r.Type} ${id}: ${action} on ${arn}`);
        }
      }
    }
    expect(denied).toEqual([]);
  });

  it('lets Lambda read the bundles and CloudFormation the bootstrap version of this stage', () => {
    const q = stages[stage].bootstrapQualifier;
    expect(
      allows(policy, 's3:GetObject', `arn:aws:s3:::cdk-${q}-assets-${ACCOUNT}-${REGION}/a.zip`),
    ).toBe(true);
    expect(
      allows(
        policy,
        'ssm:GetParameters',
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-bootstrap/${q}/version`,
      ),
    ).toBe(true);
  });

  it("never reaches the other stage's resources or the shared tables", () => {
    const other: StageName = stage === 'dev' ? 'prod' : 'dev';
    const forbidden: [string, string][] = [
      [
        'lambda:UpdateFunctionCode',
        `arn:aws:lambda:${REGION}:${ACCOUNT}:function:zsmseven-backend-processing-api-${other}-processTicker`,
      ],
      ['dynamodb:DeleteTable', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ticker-data-${other}`],
      [
        'dynamodb:DeleteTable',
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/user-portfolios-${stage}`,
      ],
      [
        'dynamodb:UpdateTable',
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/portfolio-positions-${stage}`,
      ],
      [
        'iam:PutRolePolicy',
        `arn:aws:iam::${ACCOUNT}:role/${generated(other, 'ProcessTickerRole')}`,
      ],
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/admin`],
      ['sqs:DeleteQueue', `arn:aws:sqs:${REGION}:${ACCOUNT}:ticker-processing-queue-${other}`],
      [
        's3:GetObject',
        `arn:aws:s3:::cdk-${stages[other].bootstrapQualifier}-assets-${ACCOUNT}-${REGION}/a.zip`,
      ],
      ['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:x`],
    ];
    expect(forbidden.filter(([action, arn]) => allows(policy, action, arn))).toEqual([]);
  });
});
