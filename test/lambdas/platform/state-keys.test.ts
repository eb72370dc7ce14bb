/**
 * The state table's keys against the grants: dynalite does not enforce IAM, so this runs each
 * function's state-table adapters on a recording client and checks that every request's action
 * and partition key are granted to that function by the registry (lib/functions.ts, the grants
 * the stack applies with `dynamodb:LeadingKeys`), and that every grant is used (none is wider
 * than the code). The prefixes come from lambdas/platform/state-keys.ts, as in the stack.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FUNCTIONS, type DynamoAction, type FunctionName } from '../../../lib/functions';
import { AnalysisRepository } from '../../../lambdas/analysis/adapters/analysis-repository';
import { analysisKey } from '../../../lambdas/analysis/claim';
import { defectKey, haltKey } from '../../../lambdas/analysis/paid-guard';
import { SpendLedger } from '../../../lambdas/analysis/adapters/spend-ledger';
import { createNoDataMemo } from '../../../lambdas/market-data/adapters/no-data-memo';
import { createParkedRows } from '../../../lambdas/market-data/adapters/parked-rows';
import { createFinishCursor } from '../../../lambdas/market-data/adapters/finish-cursor';
import { createRefreshMarker } from '../../../lambdas/market-data/adapters/refresh-marker';
import { createRequestBudget } from '../../../lambdas/market-data/adapters/request-budget';
import { rowFromBar } from '../../../lambdas/market-data/domain/ticker-rows';
import {
  apiKeyHash,
  STATE_PREFIX,
  stateKeys,
  type StatePurpose,
} from '../../../lambdas/platform/state-keys';

const ACTION_OF: Record<string, DynamoAction> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
};

/** A client that answers every request with nothing and records (action, table, pk) of each. */
function recordingClient() {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const mock = mockClient(client);
  mock.onAnyCommand().resolves({});
  const requests = () =>
    mock.calls().flatMap((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: any };
      const action = ACTION_OF[command.constructor.name];
      const { input } = command;
      if (input.RequestItems) {
        return Object.entries(input.RequestItems as Record<string, any>).flatMap(([table, r]) =>
          [...(r.Keys ?? []), ...(Array.isArray(r) ? r : [])].map((k: any) => ({
            action,
            table,
            pk: String(k.pk ?? k.PutRequest?.Item?.pk ?? k.DeleteRequest?.Key?.pk),
          })),
        );
      }
      return [{ action, table: input.TableName, pk: String((input.Key ?? input.Item)?.pk) }];
    });
  return { client, mock, requests };
}

/** The (purpose, action) pairs a function's registry entry grants on the state table. */
function granted(fn: FunctionName): Set<string> {
  const g = FUNCTIONS[fn].grants as {
    state?: Partial<Record<StatePurpose, readonly DynamoAction[]>>;
    polygonBudget?: true;
  };
  const pairs = Object.entries(g.state ?? {}).flatMap(([purpose, actions]) =>
    actions.map((a) => `${STATE_PREFIX[purpose as StatePurpose]} ${a}`),
  );
  if (g.polygonBudget) pairs.push(`budget#polygon# GetItem`, `budget#polygon# UpdateItem`);
  return new Set(pairs);
}

/** The granted pair covering one request (its key starts with the granted prefix), if any. */
function grantFor(grants: Set<string>, request: { action: string; pk: string }) {
  return [...grants].find((pair) => {
    const [prefix, action] = pair.split(' ');
    return action === request.action && request.pk.startsWith(prefix);
  });
}

/** Runs `use` on a recording client; every request must be granted, every grant used. */
async function expectExactlyGranted(
  fn: FunctionName,
  use: (r: ReturnType<typeof recordingClient>) => Promise<void>,
) {
  const recording = recordingClient();
  await use(recording);
  const requests = recording.requests();
  const grants = granted(fn);
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    expect({ ...request, granted: grantFor(grants, request) !== undefined }).toEqual({
      ...request,
      granted: true,
    });
    expect(request.table).toBe('state');
  }
  expect(new Set(requests.map((r) => grantFor(grants, r)))).toEqual(grants);
}

const NOW = Date.UTC(2025, 0, 15, 12);

describe('state-table keys against the grants', () => {
  it('builds every key under its purpose prefix, the budget from a hash of the key only', () => {
    const claim = stateKeys.analysisClaim({
      portfolioId: 'p1',
      model: 'grok',
      promptVersion: 'v3',
      dataAsOf: '2025-01-14',
    });
    const keys: [StatePurpose, string][] = [
      ['budget', stateKeys.budget('polygon', 'secret-key')],
      ['parked', stateKeys.parked('job', 'abcd1234', 0)],
      ['finish', stateKeys.finish('job')],
      ['noData', stateKeys.noData('NVDA')],
      ['refresh', stateKeys.refreshMarker()],
      ['analysisClaim', claim],
      ['xaiHalt', stateKeys.xaiHalt('run-1')],
      ['paidDefect', stateKeys.paidDefect(claim)],
      ['spend', stateKeys.spend('xai', '2025-01-15')],
    ];
    for (const [purpose, key] of keys) expect(key.startsWith(STATE_PREFIX[purpose])).toBe(true);
    // No prefix is another's prefix (a LeadingKeys grant of one never covers another's items).
    const prefixes = Object.values(STATE_PREFIX);
    for (const a of prefixes)
      for (const b of prefixes) if (a !== b) expect(a.startsWith(b)).toBe(false);
    expect(stateKeys.budget('polygon', 'secret-key')).toBe(
      `budget#polygon#${apiKeyHash('secret-key')}`,
    );
    expect(apiKeyHash('secret-key')).toMatch(/^[0-9a-f]{16}$/);
    expect(stateKeys.budget('polygon', 'secret-key')).not.toContain('secret-key');
    expect(apiKeyHash('other-key')).not.toBe(apiKeyHash('secret-key'));
  });

  it('processTicker: the budget, parked rows, finishing cursor, no-data memo and refresh marker', async () => {
    await expectExactlyGranted('processTicker', async ({ client, mock }) => {
      // A refusal without the item (as local engines answer) makes the budget read it.
      mock
        .on(UpdateCommand)
        .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }))
        .resolves({});
      const budget = createRequestBudget({
        client,
        tableName: 'state',
        limit: 5,
        apiKey: 'k',
        now: () => NOW,
      });
      await budget.acquire();
      const memo = createNoDataMemo({ client, tableName: 'state', now: () => NOW });
      await memo.known(['NVDA', 'AAPL'], '2025-01-14');
      await memo.record(['XXXX'], '2025-01-14');
      const parked = createParkedRows({ client, tableName: 'state', now: () => NOW });
      const row = rowFromBar(
        'NVDA',
        { ticker: 'NVDA', session: '2025-01-14', close: 1, open: 1, high: 1, low: 1, volume: 1 },
        'polygon-grouped',
        new Date(NOW).toISOString(),
      );
      const id = await parked.park('job-1', [row]);
      await expect(parked.load('job-1', id)).rejects.toThrow(/missing/);
      const cursor = createFinishCursor({ client, tableName: 'state', now: () => NOW });
      await expect(cursor.load('job-1')).resolves.toBe(0);
      await expect(cursor.advance('job-1', 0, 10)).resolves.toBe(true);
      const marker = createRefreshMarker({ client, tableName: 'state', now: () => NOW });
      await marker.record('2025-01-14', { refreshed: 1, noData: 0 });
    });
  });

  it.each(['checkFreshness', 'evaluateAnalyses'] as FunctionName[])(
    '%s: reads the refresh marker only',
    async (fn) => {
      await expectExactlyGranted(fn, async ({ client }) => {
        await createRefreshMarker({ client, tableName: 'state' }).lastSession();
      });
    },
  );

  it('analyzePortfolio: its claims, paid-guard marks and the night spend', async () => {
    await expectExactlyGranted('analyzePortfolio', async ({ client, mock }) => {
      // The spend cap: a refused admission (read back for its message), an admission, a cost.
      mock
        .on(UpdateCommand)
        .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }))
        .resolves({});
      const ledger = new SpendLedger({ client, stateTable: 'state' });
      expect(await ledger.admit('2025-01-15', 2, NOW)).toMatchObject({ admitted: false });
      expect(await ledger.admit('2025-01-15', 2, NOW)).toEqual({ admitted: true });
      await ledger.addSpend('2025-01-15', 0.01, NOW);
      const repo = new AnalysisRepository({
        client,
        analysesTable: 'analyses',
        stateTable: 'state',
      });
      const key = analysisKey({
        portfolioId: 'p1',
        model: 'grok',
        promptVersion: 'v3',
        dataAsOf: '2025-01-14',
      });
      const req = { owner: 'o', portfolioId: 'p1', now: NOW, leaseUntil: NOW + 1, force: false };
      await repo.claim(key, req);
      await repo.getClaim(key);
      await repo.completeClaim(key, 'o', { analysisTimestamp: 't', now: NOW });
      await repo.releaseClaim(key, 'o');
      const mark = { kind: 'invalid', message: 'm', now: NOW, holdUntil: NOW + 1 };
      for (const k of [haltKey('run-1'), defectKey(key)]) {
        await repo.markFailure(k, mark);
        await repo.failureMark(k);
      }
    });
  });
});
