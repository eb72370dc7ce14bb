import { stages, type StageName } from '../../lib/config/stages';
import { functionPhysicalName } from '../../lib/functions';
import { synthStage } from '../helpers/synth';

/**
 * Issue 17: analyzePortfolios sets the analysis consumer's maximum concurrency for the night.
 * Both stages synthesize with the pacing settings in its environment, and its role may update
 * exactly the analysis queue's event source mapping, nothing else.
 */
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

describe.each(['dev', 'prod'] as StageName[])('analysis pacing (%s)', (stage) => {
  const config = stages[stage];
  const { template } = synthStage(stage);
  const resources = template.toJSON().Resources as Resources;
  const logicalId = (type: string, pick: (p: Record<string, any>) => boolean) => {
    const found = Object.entries(resources).filter(
      ([, r]) => r.Type === type && pick(r.Properties),
    );
    expect(found).toHaveLength(1);
    return found[0][0];
  };
  const fnId = (fn: 'analyzePortfolios' | 'analyzePortfolio') =>
    logicalId('AWS::Lambda::Function', (p) => p.FunctionName === functionPhysicalName(stage, fn));
  const producer = resources[fnId('analyzePortfolios')];
  const consumerId = fnId('analyzePortfolio');
  const mappingId = logicalId('AWS::Lambda::EventSourceMapping', (p) =>
    JSON.stringify(p.FunctionName).includes(consumerId),
  );

  it('gives analyzePortfolios the stage pacing settings and the mapping UUID', () => {
    const env = producer.Properties.Environment.Variables as Record<string, unknown>;
    expect(env).toMatchObject({
      XAI_REQUESTS_PER_MINUTE: String(config.analysisPacing.requestsPerMinute),
      XAI_TOKENS_PER_MINUTE: String(config.analysisPacing.tokensPerMinute),
      XAI_TOKENS_PER_ANALYSIS: String(config.analysisPacing.tokensPerAnalysis),
      XAI_SECONDS_PER_ANALYSIS: String(config.analysisPacing.secondsPerAnalysis),
      ANALYSIS_DEADLINE_UTC: '13:30',
      ANALYSIS_MAX_CONCURRENCY: String(config.analysisPacing.maxConcurrency),
      ANALYSIS_EVENT_SOURCE_MAPPING_ID: { Ref: mappingId },
    });
    expect(config.analysisPacing).toMatchObject({
      requestsPerMinute: 1_800,
      tokensPerMinute: 10_000_000,
    });
  });

  it('lets only analyzePortfolios update the analysis mapping, and only that mapping', () => {
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) =>
        (r.Properties.PolicyDocument.Statement as Record<string, any>[]).map(
          (s): Record<string, any> => ({ roles: JSON.stringify(r.Properties.Roles), ...s }),
        ),
      )
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('lambda:')));
    expect(statements).toHaveLength(1);
    const [only] = statements;
    expect(only.Action).toBe('lambda:UpdateEventSourceMapping');
    expect(only.roles).toContain(JSON.stringify(producer.Properties.Role['Fn::GetAtt'][0]));
    expect(JSON.stringify(only.Resource)).toContain(`"Ref":"${mappingId}"`);
    expect(JSON.stringify(only.Resource)).toContain(':event-source-mapping:');
  });

  it('keeps the template concurrency as the starting point of a deploy', () => {
    expect(resources[mappingId].Properties.ScalingConfig).toEqual({
      MaximumConcurrency: config.analysisQueue.maxConcurrency,
    });
  });
});
