import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { addStage } from '../lib/app-builder';
import { stages } from '../lib/config/stages';

/** Local names of the tables, per the environment contract (TICKER_DATA_TABLE, …). */
export interface LocalTableNames {
  readonly tickerData: string;
  readonly analyses: string;
  readonly state: string;
  readonly portfolios: string;
  readonly positions: string;
}

export const defaultLocalTableNames = (stage = 'local'): LocalTableNames => ({
  tickerData: `ticker-data-${stage}`,
  analyses: `portfolio-analyses-${stage}`,
  state: `backend-processing-state-${stage}`,
  portfolios: `user-portfolios-${stage}`,
  positions: `portfolio-positions-${stage}`,
});

type CfnTable = {
  Properties: {
    KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
    GlobalSecondaryIndexes?: {
      IndexName: string;
      KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
      Projection: { ProjectionType: 'ALL' };
    }[];
  };
};

/**
 * CreateTable inputs for every table the service touches. The owned tables come from the
 * synthesized CDK template itself (one source of truth); the shared tables are owned by
 * portfolio-api and not in our template, so their schema is the one SYSTEM.md gives.
 */
export function localTableDefinitions(
  names: LocalTableNames = defaultLocalTableNames(),
): CreateTableCommandInput[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = addStage(app, { ...stages.dev, ownedTables: 'create' }, '000000000000');
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, CfnTable>;
  const fromTemplate = (logicalId: string, TableName: string): CreateTableCommandInput => {
    const p = resources[logicalId].Properties;
    return {
      TableName,
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
    };
  };
  const gsi = (IndexName: string, hash: string, range?: string) => ({
    IndexName,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return [
    fromTemplate('TickerDataTable', names.tickerData),
    fromTemplate('PortfolioAnalysesTable', names.analyses),
    fromTemplate('ServiceStateTable', names.state),
    {
      TableName: names.portfolios,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'userId', AttributeType: 'S' },
        { AttributeName: 'name', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        gsi('UserIdIndex', 'userId'),
        gsi('UserNameIndex', 'userId', 'name'),
      ],
      BillingMode: 'PAY_PER_REQUEST',
    },
    {
      TableName: names.positions,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'portfolioId', AttributeType: 'S' },
        { AttributeName: 'ticker', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        gsi('PortfolioIdIndex', 'portfolioId'),
        gsi('PortfolioTickerIndex', 'portfolioId', 'ticker'),
      ],
      BillingMode: 'PAY_PER_REQUEST',
    },
  ];
}
