import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface OwnedTablesProps {
  readonly stage: string;
  /** `create` defines the tables in this stack; `reference` only looks them up by name. */
  readonly mode: 'create' | 'reference';
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The tables this service owns: `ticker-data-{stage}` and `portfolio-analyses-{stage}` (contract
 * names and keys, read by portfolio-api), plus the service's private state table (Polygon request
 * budget slots, analysis claims) and `analysis-track-record-{stage}` (the score track record, read
 * by the web client; created in every mode, it exists nowhere else). Logical IDs are pinned: renaming a construct must never replace
 * a table.
 */
export class OwnedTables extends Construct {
  public readonly tickerData: dynamodb.ITable;
  public readonly analyses: dynamodb.ITable;
  public readonly state: dynamodb.Table;
  /** `analysis-track-record-{stage}`: new with the track record, so created in every mode. */
  public readonly trackRecord: dynamodb.Table;

  constructor(scope: Construct, id: string, props: OwnedTablesProps) {
    super(scope, id);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;
    const create = (
      logicalId: string,
      tableName: string,
      partitionKey: string,
      sortKey: string,
    ) => {
      const table = new dynamodb.Table(this, logicalId, {
        tableName,
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: retain,
        removalPolicy: props.removalPolicy,
      });
      (table.node.defaultChild as dynamodb.CfnTable).overrideLogicalId(logicalId);
      return table;
    };

    const tickerDataName = `ticker-data-${props.stage}`;
    const analysesName = `portfolio-analyses-${props.stage}`;
    if (props.mode === 'create') {
      this.tickerData = create('TickerDataTable', tickerDataName, 'ticker', 'timestamp');
      this.analyses = create('PortfolioAnalysesTable', analysesName, 'portfolio', 'timestamp');
    } else {
      this.tickerData = dynamodb.Table.fromTableName(this, 'TickerDataTable', tickerDataName);
      this.analyses = dynamodb.Table.fromTableName(this, 'PortfolioAnalysesTable', analysesName);
    }

    this.trackRecord = create(
      'AnalysisTrackRecordTable',
      `analysis-track-record-${props.stage}`,
      'modelPrompt',
      'asOf',
    );

    // Private to this service, so no contract name (CDK generates one); items expire via TTL.
    this.state = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy,
    });
    (this.state.node.defaultChild as dynamodb.CfnTable).overrideLogicalId('ServiceStateTable');
  }
}
