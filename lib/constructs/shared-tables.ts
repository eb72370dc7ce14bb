import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { SharedTableConfig } from '../config/stages';

export interface SharedTablesProps {
  readonly portfolios: SharedTableConfig;
  readonly positions: SharedTableConfig;
}

/** Attributes this service may write on an existing position (plus the key and the attributes its
 * condition reads). Anything else on the item is portfolio-api's. */
export const POSITION_PRICE_WRITE_ATTRIBUTES = [
  'id',
  'ticker',
  'shares',
  'costBasis',
  'currentPrice',
  'marketValue',
  'unrealizedPL',
  'updatedAt',
] as const;

/** Read actions granted on the shared tables (no writes, no PartiQL, no streams). */
export const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:DescribeTable',
] as const;

/**
 * The tables owned by portfolio-api, imported by name with their GSIs so that grants cover the
 * index ARNs too. This stack never changes their schema.
 */
export class SharedTables extends Construct {
  public readonly portfolios: dynamodb.ITable;
  public readonly positions: dynamodb.ITable;
  private readonly props: SharedTablesProps;

  constructor(scope: Construct, id: string, props: SharedTablesProps) {
    super(scope, id);
    this.props = props;
    this.portfolios = dynamodb.Table.fromTableAttributes(this, 'Portfolios', {
      tableName: props.portfolios.tableName,
      globalIndexes: [...props.portfolios.indexNames],
    });
    this.positions = dynamodb.Table.fromTableAttributes(this, 'Positions', {
      tableName: props.positions.tableName,
      globalIndexes: [...props.positions.indexNames],
    });
  }

  /**
   * Read-only access to both tables and each named index. The index ARNs are listed one by one
   * (rather than `grantReadData`'s `index/*`) so the policy names exactly what is read.
   */
  public grantRead(grantee: iam.IGrantable): void {
    const resources = [
      ...this.arns(this.portfolios, this.props.portfolios.indexNames),
      ...this.arns(this.positions, this.props.positions.indexNames),
    ];
    iam.Grant.addToPrincipal({ grantee, actions: [...READ_ACTIONS], resourceArns: resources });
  }

  private arns(table: dynamodb.ITable, indexNames: readonly string[]): string[] {
    return [table.tableArn, ...indexNames.map((ix) => `${table.tableArn}/index/${ix}`)];
  }

  /**
   * `UpdateItem` on positions, limited by IAM condition keys to the price attributes: the request
   * may name only POSITION_PRICE_WRITE_ATTRIBUTES and may not ask for whole items back.
   */
  public grantPositionPriceUpdate(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.positions.tableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:Attributes': [...POSITION_PRICE_WRITE_ATTRIBUTES],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
      },
    });
  }
}
