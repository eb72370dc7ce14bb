/**
 * The night's xAI spending cap (issue 17, lambdas/analysis/spend-cap.ts) over a whole night: the
 * cap is set below the cost of one analysis, so the first portfolio analysed reaches it and the
 * night's others are skipped for budget. Its own file: the handler reads XAI_MAX_USD_PER_NIGHT
 * at its cold start, and each test file has its own modules.
 */
import { SpendLedger } from '../../lambdas/analysis/adapters/spend-ledger';
import { nightOf } from '../../lambdas/analysis/spend-cap';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import { CORE, GROWTH, invokeDirect, scanAll, useWorld, type World } from './harness/world';

let world: World;
useWorld('spend-cap', (w) => (world = w));

/** One millionth of a dollar: below any analysis, above nothing. */
const CAP_USD = '0.000001';

faultCase('X13', async (rec) => {
  process.env.XAI_MAX_USD_PER_NIGHT = CAP_USD;
  const seeded = await world.seed();
  const ledger = new SpendLedger({ client: world.doc, stateTable: world.names.state });

  const night = await world.night();

  rec.did(describeNight(night));
  const tonight = (await scanAll(world, world.names.analyses)).filter(
    (a) => a.dataAsOf === seeded.session,
  );
  const stored = tonight.map((a) => String(a.portfolio));
  const skipped = [CORE, GROWTH].filter((p) => !stored.includes(p));
  const spend = await ledger.nightSpend(nightOf(Date.now()));
  const warnings = night.records.filter(
    (r) => r.level === 'WARN' && /spend cap reached/.test(String(r.message)),
  );
  rec.did(
    `${stored.length} portfolio analysed ($${spend.spentUsd} spent against a $${CAP_USD} cap), ` +
      `${skipped.length} skipped for budget (AnalysesSkippedBudget ${night.metrics.AnalysesSkippedBudget ?? 0}, ` +
      `${warnings.length} WARN line); xAI requests: ${night.xaiRequests.length}; ` +
      `analysis invocations ${night.analysisDrain?.invocations}, batch failures ${night.analysisDrain?.failures}`,
  );
  expect(stored).toHaveLength(1);
  expect(skipped).toHaveLength(1);
  expect(night.xaiRequests).toHaveLength(1);
  expect(warnings).toHaveLength(1);
  expect(night.analysisDrain?.failures).toBe(0);
  expect(spend.spentUsd).toBeCloseTo(Number(String(tonight[0].costUsd)), 10);
  expect(spend.admitted).toBe(1);
  await checkNight(world, seeded, night, rec, { budgetSkippedPortfolios: skipped });

  // An operator's forced run of the skipped portfolio is still sent, and its cost counted.
  const forced = await invokeDirect(world, 'analyzePortfolio', {
    portfolio_id: skipped[0],
    force: true,
  });
  expect(forced.error).toBeUndefined();
  expect(forced.result).toMatchObject({ status: 'stored' });
  const after = await ledger.nightSpend(nightOf(Date.now()));
  expect(after.spentUsd).toBeCloseTo(spend.spentUsd + Number(forced.result.analysis.costUsd), 10);
  rec.did(
    `a manual {"portfolio_id", "force": true} of the skipped one: stored, spend now $${after.spentUsd}`,
  );
  rec.checked(
    'the first analysis stored and its cost added to the night spend (spend#xai#<UTC day>)',
    'the skipped portfolio: not sent to xAI, acknowledged (no batch failure, not in the DLQ), AnalysesSkippedBudget 1, one WARN line naming it, its last good analysis still the newest',
    'a manual forced run over the cap is sent and its cost counted',
  );
  delete process.env.XAI_MAX_USD_PER_NIGHT;
});
