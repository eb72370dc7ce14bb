import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createRefreshMarker } from '../../../lambdas/market-data/adapters/refresh-marker';
import {
  latestCompletedSession,
  previousTradingDay,
} from '../../../lambdas/market-data/domain/market-calendar';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { lambdaContext } from '../../helpers/events';
import { localServiceEnv } from '../../../sim/local-env';

jest.setTimeout(60_000);

let dynamo: LocalDynamo;
let handler: (
  event: unknown,
  context: unknown,
) => Promise<{ stale: 0 | 1; expectedSession: string }>;
let marker: ReturnType<typeof createRefreshMarker>;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  Object.assign(process.env, localServiceEnv(dynamo));
  marker = createRefreshMarker({
    client: DynamoDBDocumentClient.from(dynamo.client),
    tableName: dynamo.names.state,
  });
  handler = (await import('../../../lambdas/handlers/check-freshness')).handler as typeof handler;
});

afterAll(() => dynamo?.close());

describe('checkFreshness handler', () => {
  const session = latestCompletedSession(Date.now());

  it('reports stale data when no refresh was ever recorded', async () => {
    await expect(handler({}, lambdaContext())).resolves.toMatchObject({
      expectedSession: session,
      stale: 1,
    });
  });

  it('reports fresh data once a refresh of the latest session is recorded', async () => {
    await marker.record(session, { refreshed: 3, noData: 1 });
    await expect(handler({}, lambdaContext())).resolves.toMatchObject({
      lastRefreshedSession: session,
      stale: 0,
    });
  });

  it('never moves the marker back when an older session is re-run by hand', async () => {
    await marker.record(previousTradingDay(session), { refreshed: 1, noData: 0 });
    await expect(marker.lastSession()).resolves.toBe(session);
    await expect(handler({}, lambdaContext())).resolves.toMatchObject({ stale: 0 });
  });
});
