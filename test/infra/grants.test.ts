/**
 * Every DynamoDB grant of every function, derived from the synthesized template of each stage
 * and compared with the table below: a widening (an action, a table, an index, a key prefix) is
 * a visible diff here. One row per (table, key condition): `<table>[<leading keys>]: <actions>`,
 * or `<table>{attributes}` for the positions' price-attribute condition; `{stage}` for the stage.
 */
import { stages, type FunctionName, type StageName } from '../../lib/config/stages';
import { FUNCTION_NAMES, functionPhysicalName } from '../../lib/functions';
import { synthStage } from '../helpers/synth';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** Tables this stack creates, by logical ID. */
const LOGICAL_TABLES: Record<string, string> = {
  TickerDataTable: 'ticker-data-{stage}',
  PortfolioAnalysesTable: 'portfolio-analyses-{stage}',
  ServiceStateTable: 'state',
  AnalysisTrackRecordTable: 'analysis-track-record-{stage}',
};

const SHARED_READ = [
  'portfolio-positions-{stage}: BatchGetItem DescribeTable GetItem Query Scan',
  'portfolio-positions-{stage}/index/PortfolioIdIndex: BatchGetItem DescribeTable GetItem Query Scan',
  'portfolio-positions-{stage}/index/PortfolioTickerIndex: BatchGetItem DescribeTable GetItem Query Scan',
  'user-portfolios-{stage}: BatchGetItem DescribeTable GetItem Query Scan',
  'user-portfolios-{stage}/index/UserIdIndex: BatchGetItem DescribeTable GetItem Query Scan',
  'user-portfolios-{stage}/index/UserNameIndex: BatchGetItem DescribeTable GetItem Query Scan',
];

/** The whole DynamoDB access of each function (the same in both stages). */
const EXPECTED: Record<FunctionName, string[]> = {
  processTickers: SHARED_READ,
  processTicker: [
    ...SHARED_READ,
    'portfolio-positions-{stage}{attributes}: UpdateItem',
    'state[budget#polygon#*]: GetItem UpdateItem',
    'state[finish#*]: GetItem UpdateItem',
    'state[nodata#*]: BatchGetItem BatchWriteItem',
    'state[parked#*]: GetItem PutItem',
    'state[refresh#*]: UpdateItem',
    'ticker-data-{stage}: BatchGetItem BatchWriteItem Query',
  ],
  analyzePortfolios: SHARED_READ,
  analyzePortfolio: [
    ...SHARED_READ,
    'portfolio-analyses-{stage}: GetItem PutItem Query',
    'state[analysis#*]: DeleteItem GetItem PutItem UpdateItem',
    'state[paid-defect#*]: GetItem UpdateItem',
    'state[spend#*]: GetItem UpdateItem',
    'state[xai-halt#*]: GetItem UpdateItem',
    'ticker-data-{stage}: Query',
  ],
  checkFreshness: ['state[refresh#*]: GetItem'],
  evaluateAnalyses: [
    ...SHARED_READ,
    'analysis-track-record-{stage}: PutItem',
    'portfolio-analyses-{stage}: Query UpdateItem',
    'state[refresh#*]: GetItem',
    'ticker-data-{stage}: Query',
  ],
};

/** A statement resource as a table label (`state`, `ticker-data-{stage}`, `…/index/<name>`). */
function tableLabel(resource: unknown, stage: string): string {
  const text = JSON.stringify(resource);
  const logical = /"Fn::GetAtt":\["(\w+)","Arn"\]/.exec(text)?.[1];
  if (logical && text.includes('/index/')) return `${LOGICAL_TABLES[logical]}/index/*`;
  if (logical) return LOGICAL_TABLES[logical] ?? `?${logical}`;
  const named = /:table\/([^"]+)/.exec(text)?.[1];
  if (!named) throw new Error(`not a table: ${text}`);
  return named.split(`-${stage}`).join('-{stage}');
}

/** The key condition of a statement: `[prefixes]`, `{attributes}`, or none. */
function conditionLabel(conditions: Record<string, Record<string, unknown>> | undefined): string {
  if (!conditions) return '';
  const leading = conditions['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
  if (leading) {
    if (Object.keys(conditions).length !== 1) throw new Error('LeadingKeys with other conditions');
    return `[${([leading].flat() as string[]).join(' ')}]`;
  }
  if (conditions['ForAllValues:StringEquals']?.['dynamodb:Attributes']) return '{attributes}';
  throw new Error(`unexpected condition ${JSON.stringify(conditions)}`);
}

/** Every function's DynamoDB grants as sorted rows, from the template. */
function grantsOf(stage: StageName, override = {}): Record<FunctionName, string[]> {
  const { template } = synthStage(stage, override);
  const resources = template.toJSON().Resources as Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const rowsOf = (fn: FunctionName) => {
    const [[, f]] = ofType('AWS::Lambda::Function').filter(
      ([, r]) => r.Properties.FunctionName === functionPhysicalName(stage, fn),
    );
    const role = f.Properties.Role['Fn::GetAtt'][0];
    const rows = new Map<string, Set<string>>();
    for (const [, p] of ofType('AWS::IAM::Policy')) {
      if (!p.Properties.Roles.some((r: { Ref?: string }) => r.Ref === role)) continue;
      for (const st of p.Properties.PolicyDocument.Statement) {
        const actions = [st.Action].flat() as string[];
        const dynamo = actions.filter((a) => a.startsWith('dynamodb:'));
        if (dynamo.length === 0) continue;
        expect(st.Effect).toBe('Allow');
        expect(dynamo).toEqual(actions); // no statement mixes services
        for (const resource of [st.Resource].flat()) {
          const key = `${tableLabel(resource, stage)}${conditionLabel(st.Condition)}`;
          const set = rows.get(key) ?? new Set<string>();
          for (const a of dynamo) set.add(a.slice('dynamodb:'.length));
          rows.set(key, set);
        }
      }
    }
    return [...rows].map(([key, set]) => `${key}: ${[...set].sort().join(' ')}`).sort();
  };
  return Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, rowsOf(fn)])) as Record<
    FunctionName,
    string[]
  >;
}

describe.each(['dev', 'prod'] as StageName[])('DynamoDB grants (%s)', (stage) => {
  it('give each function exactly the actions, tables and state-key prefixes its code uses', () => {
    const sorted = Object.fromEntries(
      Object.entries(EXPECTED).map(([fn, rows]) => [fn, [...rows].sort()]),
    );
    expect(grantsOf(stage)).toEqual(sorted);
  });

  it('put the Polygon budget in the account-level table when the stage names one', () => {
    const grants = grantsOf(stage, { polygonBudgetTable: 'polygon-request-budget' });
    expect(grants.processTicker).toContain(
      'polygon-request-budget[budget#polygon#*]: GetItem UpdateItem',
    );
    expect(grants.processTicker.filter((r) => r.includes('budget#'))).toHaveLength(1);
    expect(stages[stage].polygonBudgetTable).toBeUndefined();
  });
});
