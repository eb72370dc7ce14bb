import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { analyzePortfolioFlow } from '../../../lambdas/analysis/flows';
import { createAnalyzePortfolioDeps } from '../../../lambdas/analysis/wiring';
import { SpendLedger } from '../../../lambdas/analysis/adapters/spend-ledger';
import type { AnalysisMetric, AnalyzePortfolioDeps } from '../../../lambdas/analysis/ports';
import { stateKeys } from '../../../lambdas/platform/state-keys';
import { startLocalDynamo, type LocalDynamo } from '../../../sim/local-dynamo';
import { startXaiSimulator, type XaiSimulator } from '../../../sim/xai-simulator';
import {
  analysesOf,
  analysisEnv,
  localDocumentClient,
  seedNvdaPortfolios,
  putAll,
  setEnv,
  XAI_TEST_KEY,
} from './analysis-fixtures';
import { message, sqs } from './flow-fakes';

/**
 * The per-night xAI spending cap against dynalite and the xAI simulator: concurrent invocations
 * (each a batch of queue records, as the event source mapping delivers them) share the night's
 * spend item, reach the cap mid-night and stop within the stated bound (lambdas/analysis/spend-cap.ts).
 * The clock is fixed: nothing depends on the real date.
 */

const NIGHT = Date.parse('2026-11-24T06:00:00.000Z');
const NEXT_NIGHT = NIGHT + 86_400_000;
const OLD_ROW = '2026-11-20T06:01:00.000Z';
const INVOCATIONS = 6;
const PER_INVOCATION = 4;
const ids = Array.from(
  { length: INVOCATIONS * PER_INVOCATION },
  (_, i) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`,
);
const CALIBRATION = 'bbbbbbbb-0000-4000-8000-000000000000';

let dynamo: LocalDynamo;
let xai: XaiSimulator;
let doc: DynamoDBDocumentClient;
let ledger: SpendLedger;
let restoreEnv: () => void;
/** The simulator's cost of one analysis of these (identical) portfolios, USD (less once cached). */
let costOfOne: number;

/** The wired dependencies on a fixed clock, with counters and log lines recorded. */
function night(now: number, capUsd: number | undefined) {
  const env = analysisEnv(dynamo, xai.url, {
    ...(capUsd === undefined ? {} : { XAI_MAX_USD_PER_NIGHT: String(capUsd) }),
  });
  const wired = createAnalyzePortfolioDeps(env).forInvocation();
  const counts = new Map<AnalysisMetric, number>();
  const logs: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const deps: AnalyzePortfolioDeps = {
    ...wired,
    runtime: { ...wired.runtime, now: () => now },
    obs: {
      count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
      log: (level, msg, data) => logs.push({ level, message: msg, data }),
      correlate: () => undefined,
    },
  };
  return { deps, counts, logs };
}

const capWarnings = (logs: { level: string; message: string; data?: Record<string, unknown> }[]) =>
  logs.filter((l) => l.level === 'warn' && l.message.startsWith('Night xAI spend cap reached'));

beforeAll(async () => {
  [dynamo, xai] = await Promise.all([
    startLocalDynamo(),
    startXaiSimulator({ apiKey: XAI_TEST_KEY }),
  ]);
  // The AWS clients read their endpoint and credentials from the process environment.
  restoreEnv = setEnv(analysisEnv(dynamo, xai.url));
  doc = localDocumentClient(dynamo);
  ledger = new SpendLedger({ client: doc, stateTable: dynamo.names.state });
  const all = [...ids, CALIBRATION];
  await seedNvdaPortfolios(doc, dynamo.names, all, 'Portfolio', {
    asOf: '2026-11-23',
    price: 150,
    rsi: 61,
    ma50: 140,
  });
  // Each portfolio's last good analysis, from an earlier night.
  await putAll(
    doc,
    dynamo.names.analyses,
    ids.map((id) => ({ portfolio: id, timestamp: OLD_ROW, dataAsOf: '2026-11-19', model: 'old' })),
  );
  // One analysis on an earlier night measures what one costs at the simulator's prices.
  const calibration = night(NIGHT - 86_400_000, undefined);
  await analyzePortfolioFlow(
    { kind: 'byId', portfolioId: CALIBRATION, force: false },
    calibration.deps,
  );
  costOfOne = (await ledger.nightSpend('2026-11-23')).spentUsd;
  xai.setMode('slow', { delayMs: 150 }); // the calls of concurrent invocations overlap
}, 60_000);

afterAll(async () => {
  restoreEnv?.();
  await Promise.all([xai?.close(), dynamo?.close()]);
});

describe('the night xAI spending cap', () => {
  it('stops concurrent invocations mid-night within cap + invocations in flight × one analysis', async () => {
    // Prepare: a cap of about 8 analyses, 24 queued portfolios in 6 concurrent batches of 4.
    expect(costOfOne).toBeGreaterThan(0);
    const cap = Number((8.5 * costOfOne).toFixed(6));
    const run = night(NIGHT, cap);
    const batches = Array.from({ length: INVOCATIONS }, (_, b) =>
      ids.slice(b * PER_INVOCATION, (b + 1) * PER_INVOCATION).map((id) => message(id)),
    );

    // Act: the invocations run at once, each with its own WARN lines.
    const perInvocation = batches.map(() => night(NIGHT, cap));
    const results = await Promise.all(
      batches.map((records, b) => analyzePortfolioFlow(sqs(...records), perInvocation[b].deps)),
    );

    // Assess: every record acknowledged, each portfolio stored or skipped for budget and counted.
    expect(results).toEqual(batches.map(() => ({ batchItemFailures: [] })));
    const newest = await Promise.all(
      ids.map(async (id) => (await analysesOf(doc, dynamo.names.analyses, id))[0]),
    );
    const stored = newest.filter((r) => r.timestamp !== OLD_ROW);
    const skipped = newest.filter((r) => r.timestamp === OLD_ROW); // the last good one stays newest
    const sum = (m: AnalysisMetric) =>
      perInvocation.reduce((n, inv) => n + (inv.counts.get(m) ?? 0), 0);
    expect(sum('AnalysesStored')).toBe(stored.length);
    expect(sum('AnalysesSkippedBudget')).toBe(skipped.length);
    expect(stored.length + skipped.length).toBe(ids.length);
    expect(skipped.length).toBeGreaterThan(0); // the cap was reached mid-night

    const spend = await ledger.nightSpend('2026-11-24');
    const maxCost = Math.max(...stored.map((r) => Number(r.costUsd)));
    expect(spend.spentUsd).toBeGreaterThanOrEqual(cap);
    expect(spend.spentUsd).toBeLessThanOrEqual(cap + INVOCATIONS * maxCost + 1e-9);
    expect(spend.spentUsd).toBeCloseTo(
      stored.reduce((s, r) => s + Number(r.costUsd), 0),
      8,
    );
    expect(spend.admitted).toBe(stored.length);

    // One WARN line per invocation that skipped, none per record.
    for (const inv of perInvocation) {
      const skippedHere = inv.counts.get('AnalysesSkippedBudget') ?? 0;
      expect(capWarnings(inv.logs)).toHaveLength(skippedHere > 0 ? 1 : 0);
      if (skippedHere > 0) {
        expect(capWarnings(inv.logs)[0].data).toMatchObject({
          night: '2026-11-24',
          capUsd: cap,
          skipped: skippedHere,
        });
      }
      expect(inv.logs.filter((l) => l.level === 'error')).toEqual([]);
    }
    expect(run.counts.size).toBe(0);
  }, 60_000);

  it('still sends a manual forced run over the cap and counts its cost; refuses an unforced one', async () => {
    const cap = costOfOne / 2;
    const before = (await ledger.nightSpend('2026-11-24')).spentUsd;
    expect(before).toBeGreaterThan(cap);
    const [skipped] = await Promise.all(
      ids.map(async (id) => ({ id, rows: await analysesOf(doc, dynamo.names.analyses, id) })),
    ).then((all) => all.filter((p) => p.rows[0].timestamp === OLD_ROW));

    const refused = night(NIGHT, cap);
    await expect(
      analyzePortfolioFlow({ kind: 'byId', portfolioId: skipped.id, force: false }, refused.deps),
    ).rejects.toThrow(/was not sent to xAI: the night 2026-11-24 has spent .* "force": true/);
    expect(refused.counts.get('AnalysesSkippedBudget')).toBe(1);

    const forced = night(NIGHT, cap);
    const result = await analyzePortfolioFlow(
      { kind: 'byId', portfolioId: skipped.id, force: true },
      forced.deps,
    );
    expect(result).toMatchObject({ status: 'stored' });
    const after = (await ledger.nightSpend('2026-11-24')).spentUsd;
    const [row] = await analysesOf(doc, dynamo.names.analyses, skipped.id);
    expect(after).toBeCloseTo(before + Number(row.costUsd), 8);
  }, 30_000);

  it("lets an operator raise tonight's cap on the spend item, and starts the next night afresh", async () => {
    const cap = costOfOne / 2;
    const stillSkipped = async () =>
      (
        await Promise.all(
          ids.map(async (id) => ({ id, rows: await analysesOf(doc, dynamo.names.analyses, id) })),
        )
      ).filter((p) => p.rows[0].timestamp === OLD_ROW);
    const [first, second] = await stillSkipped();

    // Tonight: over the stage cap, until capUsdTonight is set above the spend.
    const tonight = night(NIGHT, cap);
    await analyzePortfolioFlow(sqs(message(first.id)), tonight.deps);
    expect(tonight.counts.get('AnalysesSkippedBudget')).toBe(1);
    await doc.send(
      new UpdateCommand({
        TableName: dynamo.names.state,
        Key: { pk: stateKeys.spend('xai', '2026-11-24') },
        UpdateExpression: 'SET capUsdTonight = :c',
        ExpressionAttributeValues: { ':c': 1000 },
      }),
    );
    const raised = night(NIGHT, cap);
    await analyzePortfolioFlow(sqs(message(first.id)), raised.deps);
    expect(raised.counts.get('AnalysesStored')).toBe(1);

    // The next night has its own item: the stage cap again, from zero.
    const next = night(NEXT_NIGHT, cap);
    await analyzePortfolioFlow(sqs(message(second.id)), next.deps);
    expect(next.counts.get('AnalysesStored')).toBe(1);
    const [row] = await analysesOf(doc, dynamo.names.analyses, second.id);
    expect((await ledger.nightSpend('2026-11-25')).spentUsd).toBeCloseTo(Number(row.costUsd), 8);
    const after = night(NEXT_NIGHT, cap);
    const [third] = await stillSkipped();
    await analyzePortfolioFlow(sqs(message(third.id)), after.deps);
    expect(after.counts.get('AnalysesSkippedBudget')).toBe(1);
  }, 30_000);
});
