import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LocalDynamo } from '../../../sim/local-dynamo';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import { localServiceEnv } from '../../../sim/local-env';

/** The key the xAI simulator accepts in these tests. */
export const XAI_TEST_KEY = 'xai-local-test-key-0123456789';

/**
 * The environment contract for the analysis handlers against local services. Backoff is cut to
 * milliseconds so retries stay fast; everything else is the deployed default.
 */
export function analysisEnv(
  dynamo: LocalDynamo,
  xaiUrl: string,
  extra: Record<string, string> = {},
) {
  return {
    ...localServiceEnv(dynamo),
    XAI_API_URL: xaiUrl,
    XAI_MODEL: 'grok-4.3',
    XAI_API_KEY: XAI_TEST_KEY,
    XAI_RETRY_BASE_MS: '1',
    XAI_RETRY_MAX_MS: '5',
    ...extra,
  };
}

/** Sets variables for the rest of the file; returns a function that restores the old values. */
export function setEnv(values: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** A DocumentClient on the local engine (exact numbers read back as NumberValue). */
export function localDocumentClient(dynamo: LocalDynamo): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** A `user-portfolios` item as portfolio-api writes it. */
export const portfolioItem = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  userId: `user-${id}`,
  name,
  isDefault: false,
  createdAt: '2026-01-05T10:00:00.000Z',
  updatedAt: '2026-01-05T10:00:00.000Z',
  ...extra,
});

/** A `portfolio-positions` item with exact decimal numbers. */
export const positionItem = (
  id: string,
  portfolioId: string,
  ticker: string,
  shares: string,
  costBasis: string,
) => ({
  id,
  portfolioId,
  ticker,
  shares: NumberValue.from(shares),
  costBasis: NumberValue.from(costBasis),
  averageCost: NumberValue.from((Number(costBasis) / Number(shares)).toFixed(4)),
  createdAt: '2026-01-05T10:00:00.000Z',
  updatedAt: '2026-01-05T10:00:00.000Z',
});

/** A `ticker-data` row as the market-data refresh writes it. */
export const tickerRow = (
  ticker: string,
  asOf: string,
  price: number,
  rsi?: number,
  ma50?: number,
) => ({
  ticker,
  timestamp: sessionCloseIso(asOf),
  asOf,
  price,
  ...(rsi === undefined ? {} : { rsi }),
  ...(ma50 === undefined ? {} : { ma50 }),
  indicatorVersion: 1,
  source: 'polygon-grouped',
  fetchedAt: '2026-11-24T04:35:00.000Z',
});

/** Writes items to a table in batches of 25. */
export async function putAll(
  doc: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
) {
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

/** Writes one item. */
export async function putItem(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown>,
) {
  await doc.send(new PutCommand({ TableName: table, Item: item }));
}

/** A portfolio's analysis rows, newest first (what the portfolio API reads). */
export async function analysesOf(doc: DynamoDBDocumentClient, table: string, portfolioId: string) {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'portfolio = :p',
      ExpressionAttributeValues: { ':p': portfolioId },
      ScanIndexForward: false,
    }),
  );
  return (out.Items ?? []) as Record<string, unknown>[];
}

/** One state-table item. */
export async function stateItem(doc: DynamoDBDocumentClient, table: string, pk: string) {
  return (await doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })))
    .Item;
}

/** The user message of every simulator request that mentions the text. */
export function userMessages(
  requests: readonly Record<string, unknown>[],
  containing: string,
): string[] {
  return requests
    .flatMap((r) =>
      Array.isArray(r.messages) ? (r.messages as { role: string; content: string }[]) : [],
    )
    .filter((m) => m.role === 'user' && m.content.includes(containing))
    .map((m) => m.content);
}

/**
 * Seeds one portfolio per id (named `<namePrefix> <i>`), each holding 10 NVDA at a 1,200 cost
 * basis, and NVDA's `ticker-data` row: the set-up the analysis integration tests share.
 */
export async function seedNvdaPortfolios(
  doc: DynamoDBDocumentClient,
  names: LocalDynamo['names'],
  ids: readonly string[],
  namePrefix: string,
  nvda: { asOf: string; price: number; rsi: number; ma50: number },
): Promise<void> {
  await putAll(
    doc,
    names.portfolios,
    ids.map((id, i) => portfolioItem(id, `${namePrefix} ${i}`)),
  );
  await putAll(
    doc,
    names.positions,
    ids.map((id, i) => positionItem(`pos-${i}`, id, 'NVDA', '10', '1200')),
  );
  await putAll(doc, names.tickerData, [
    tickerRow('NVDA', nvda.asOf, nvda.price, nvda.rsi, nvda.ma50),
  ]);
}
