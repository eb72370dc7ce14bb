import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients, created once per cold start. Endpoints are never hard-coded: the SDK itself
 * honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS, which is how the
 * same bundles run against local services.
 */
const documentClients = new Map<boolean, DynamoDBDocumentClient>();
let sqs: SQSClient | undefined;

/**
 * A DocumentClient. With `exactNumbers`, numbers are read as `NumberValue` (their exact decimal
 * string) so money (shares, cost basis) never passes through a binary float. Each setting gets
 * its own base client: `DynamoDBDocumentClient.from` writes its translate config onto the client
 * it wraps, so two document clients sharing one base client would share one setting.
 */
export function documentClient(exactNumbers = false): DynamoDBDocumentClient {
  let client = documentClients.get(exactNumbers);
  if (!client) {
    client = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: exactNumbers },
    });
    documentClients.set(exactNumbers, client);
  }
  return client;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ maxAttempts: 5 });
  return sqs;
}
