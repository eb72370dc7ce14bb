import type { LocalDynamo } from './local-dynamo';

/**
 * The part of the environment contract that points the handlers at the local services: SDK
 * endpoints and dummy credentials, and every table name. Tests, the local run and the benchmark
 * add the queue URLs and upstreams they use.
 */
export function localServiceEnv(dynamo: LocalDynamo, sqsEndpoint?: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    ...(sqsEndpoint ? { AWS_ENDPOINT_URL_SQS: sqsEndpoint } : {}),
    TICKER_DATA_TABLE: dynamo.names.tickerData,
    ANALYSES_TABLE: dynamo.names.analyses,
    STATE_TABLE: dynamo.names.state,
    PORTFOLIOS_TABLE: dynamo.names.portfolios,
    POSITIONS_TABLE: dynamo.names.positions,
    TRACK_RECORD_TABLE: dynamo.names.trackRecord,
  };
}
