/**
 * One Polygon budget per API key: two stages' processTicker wiring (each with its own state
 * table) that share a key and name the same budget table (`POLYGON_BUDGET_TABLE`, the stage
 * option `polygonBudgetTable`) never exceed the key's 5 calls in any 60 s, against dynalite and
 * the Polygon simulator (which counts admitted requests per key in a sliding window). The
 * control case shows what the shared table prevents: with the budget in each stage's own state
 * table, the same key gets twice the calls and the simulator answers 429. Time-compressed 10×.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { BudgetExhaustedError } from '../../../lambdas/market-data/adapters/request-budget';
import { createProcessTickerDeps } from '../../../lambdas/market-data/wiring';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { localServiceEnv } from '../../../sim/local-env';
import {
  maxInWindow,
  startPolygonSimulator,
  SIMULATOR_API_KEY,
  type PolygonSimulator,
} from '../../../sim/polygon-simulator';
import { lambdaContext } from '../../helpers/events';

jest.setTimeout(60_000);

// 10×: the budget's clock-skew margin (1/40 of the window, 150 ms) absorbs a loaded machine's
// request latency; at 30× (50 ms) a slow request could arrive after the next one's permit.
const SCALE = 10;
const WINDOW_MS = 60_000 / SCALE;
const LIMIT = 5;

let dynamo: LocalDynamo;
let polygon: PolygonSimulator;

const createKeyTable = (name: string) =>
  dynamo.client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  for (const t of ['state-dev', 'state-prod', 'polygon-budget-a', 'polygon-budget-b'])
    await createKeyTable(t);
  Object.assign(process.env, localServiceEnv(dynamo));
});

afterAll(async () => {
  await dynamo?.close();
});

beforeEach(async () => {
  const start = Date.now();
  polygon = await startPolygonSimulator({
    requestsPerMinute: LIMIT,
    now: () => start + (Date.now() - start) * SCALE,
    publishDelayMs: 0,
  });
});

afterEach(async () => {
  await polygon?.close();
});

/** A stage's processTicker wiring: its own state table, the shared key, maybe a budget table. */
const stageBars = (stateTable: string, budgetTable: string | undefined) => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STATE_TABLE: stateTable,
    SQS_QUEUE_URL: 'http://127.0.0.1:1/unused',
    POLYGON_BASE_URL: polygon.url,
    POLYGON_API_KEY: SIMULATOR_API_KEY,
    POLYGON_REQUESTS_PER_MINUTE: String(LIMIT),
    POLYGON_BUDGET_WINDOW_MS: String(WINDOW_MS),
    ...(budgetTable ? { POLYGON_BUDGET_TABLE: budgetTable } : {}),
  };
  return createProcessTickerDeps(env)(lambdaContext(900_000, 'processTicker')).job.bars;
};

/** Both stages call Polygon as fast as their budget lets them, until `total` calls were made. */
async function hammer(budgetTables: [string | undefined, string | undefined], total: number) {
  const stages = [
    stageBars('state-dev', budgetTables[0]),
    stageBars('state-prod', budgetTables[1]),
  ];
  const calls = [0, 0];
  const deadline = Date.now() + 20_000;
  await Promise.all(
    stages.map(async (bars, i) => {
      while (Date.now() < deadline && calls[0] + calls[1] < total) {
        try {
          await bars.dailyRange('NVDA', '2025-01-02', '2025-01-10');
          calls[i]++;
        } catch (err) {
          if (!(err instanceof BudgetExhaustedError)) return; // a 429 ends this stage's run
          await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs, 50)));
        }
      }
    }),
  );
  return calls;
}

describe('the Polygon budget is per key', () => {
  it('holds two stages sharing a key and a budget table to 5 calls in any 60 s', async () => {
    // Act: more than 2 windows' worth of calls from two stages with their own state tables.
    const calls = await hammer(['polygon-budget-a', 'polygon-budget-a'], 2 * LIMIT + 1);

    // Assess: both stages called, the key never exceeded its limit (simulator time), no 429.
    expect(calls[0]).toBeGreaterThan(0);
    expect(calls[1]).toBeGreaterThan(0);
    expect(calls[0] + calls[1]).toBeGreaterThanOrEqual(2 * LIMIT + 1);
    // Every request that reached Polygon counts (refused ones too), on Polygon's clock.
    expect(
      maxInWindow(
        polygon.requests.map((r) => r.at),
        60_000,
      ),
    ).toBeLessThanOrEqual(LIMIT);
    expect(polygon.stats().rateLimited).toBe(0);
  });

  it('(control) goes over the key limit when each stage keeps the budget in its own table', async () => {
    // Act: the same, each stage's budget in its own table (the layout the per-key rule forbids).
    await hammer(['polygon-budget-b', undefined], 2 * LIMIT + 1);

    // Assess: the key got more than its limit asked of it, and the simulator refused some.
    expect(
      maxInWindow(
        polygon.requests.map((r) => r.at),
        60_000,
      ),
    ).toBeGreaterThan(LIMIT);
    expect(polygon.stats().rateLimited).toBeGreaterThan(0);
  });
});
