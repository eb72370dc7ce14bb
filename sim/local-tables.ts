import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../lib/constructs/worker-function';
import { ServiceStack } from '../lib/stacks/service-stack';
import { stages } from '../lib/config/stages';

/** Local names of the tables, per the environment contract (TICKER_DATA_TABLE, …). */
export interface LocalTableNames {
  readonly tickerData: string;
  readonly analyses: string;
  readonly state: string;
  readonly portfolios: string;
  readonly positions: string;
  readonly trackRecord: string;
}

export const defaultLocalTableNames = (stage = 'local'): LocalTableNames => ({
  tickerData: `ticker-data-${stage}`,
  analyses: `portfolio-analyses-${stage}`,
  state: `backend-processing-state-${stage}`,
  portfolios: `user-portfolios-${stage}`,
  positions: `portfolio-positions-${stage}`,
  trackRecord: `analysis-track-record-${stage}`,
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
  // The stack alone (no cdk-nag pack, bundling skipped): only its table resources are read.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ServiceStack(app, 'LocalTables', {
    env: { account: '000000000000', region: stages.dev.env.region },
    config: { ...stages.dev, ownedTables: 'create' },
  });
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
    fromTemplate('AnalysisTrackRecordTable', names.trackRecord),
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

const CACHE_DIR = path.join(repoRoot, '.local', 'cache');

const tsFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? tsFilesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
    )
    .filter((f) => f.endsWith('.ts'))
    .sort();

/** A digest of everything the definitions derive from: the CDK code, this file, aws-cdk-lib's version. */
function definitionsKey(names: LocalTableNames): string {
  const hash = createHash('sha256').update(JSON.stringify(names));
  hash.update(readFileSync(path.join(repoRoot, 'node_modules', 'aws-cdk-lib', 'package.json')));
  for (const file of [...tsFilesUnder(path.join(repoRoot, 'lib')), __filename]) {
    hash.update(path.relative(repoRoot, file)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * {@link localTableDefinitions}, cached in `.local/cache/` under a digest of its inputs: synthesis
 * takes seconds, and any change to the stack's code makes the next call synthesize again.
 */
export function cachedLocalTableDefinitions(names: LocalTableNames = defaultLocalTableNames()): {
  definitions: CreateTableCommandInput[];
  cached: boolean;
} {
  const file = path.join(CACHE_DIR, `table-definitions-${definitionsKey(names)}.json`);
  if (existsSync(file)) {
    return {
      definitions: JSON.parse(readFileSync(file, 'utf8')) as CreateTableCommandInput[],
      cached: true,
    };
  }
  const definitions = localTableDefinitions(names);
  mkdirSync(CACHE_DIR, { recursive: true });
  // Written then renamed, so parallel test workers never read a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(definitions, null, 2));
  renameSync(tmp, file);
  return { definitions, cached: false };
}
