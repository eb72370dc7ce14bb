import { analyzePortfolioFlow } from '../../../lambdas/analysis/flows';
import { nightOf } from '../../../lambdas/analysis/spend-cap';
import { fakeAnalysis, message, NOW, sqs } from './flow-fakes';

/** The spending cap's rules on the flow, with in-memory ports (the dynalite test: spend-cap.integration). */

const NIGHT = nightOf(NOW);

function capped(capUsd: number | undefined) {
  const fake = fakeAnalysis();
  const deps = { ...fake.deps, runtime: { ...fake.deps.runtime, spendCapUsd: capUsd } };
  return { ...fake, deps };
}

describe('the night spending cap in the analysis flow', () => {
  it('names the night by the UTC day of the call', () => {
    expect(nightOf(Date.parse('2026-11-24T23:59:59.999Z'))).toBe('2026-11-24');
    expect(nightOf(Date.parse('2026-11-25T00:00:00.000Z'))).toBe('2026-11-25');
  });

  it('adds the cost of a billed answer that fails validation to the night spend', async () => {
    const fake = capped(10);
    fake.answerWith(() => JSON.stringify({ scores: [] }));

    const result = await analyzePortfolioFlow(sqs(message('p1')), fake.deps);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: expect.any(String) }] });
    expect(fake.rows).toHaveLength(0);
    expect(fake.spent.get(NIGHT)).toEqual({ spentUsd: 0.00195, admitted: 1 });
  });

  it('refuses a manual run without force over the cap, saying how to force it, and counts it', async () => {
    const fake = capped(0.001);
    fake.spent.set(NIGHT, { spentUsd: 0.002, admitted: 1 });

    await expect(
      analyzePortfolioFlow({ kind: 'byId', portfolioId: 'p1', force: false }, fake.deps),
    ).rejects.toThrow(/spent \$0\.0020 of its \$0\.001 cap.*"force": true/);

    expect(fake.requests).toHaveLength(0);
    expect(fake.counts.get('AnalysesSkippedBudget')).toBe(1);
    expect(fake.counts.get('AnalysisFailures')).toBeUndefined();
  });

  it('acknowledges a queued record over the cap with one WARN line for the whole batch', async () => {
    const fake = capped(0.001);
    fake.spent.set(NIGHT, { spentUsd: 0.002, admitted: 1 });

    const result = await analyzePortfolioFlow(sqs(message('p1'), message('p1')), fake.deps);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.requests).toHaveLength(0);
    expect(fake.counts.get('AnalysesSkippedBudget')).toBe(2);
    const warnings = fake.logs.filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'Night xAI spend cap reached: portfolios not sent to xAI',
        data: expect.objectContaining({ night: NIGHT, skipped: 2, capUsd: 0.001 }),
      }),
    ]);
  });

  it('without a cap admits nothing but still records the spend', async () => {
    const fake = capped(undefined);

    await analyzePortfolioFlow(sqs(message('p1')), fake.deps);

    expect(fake.rows).toHaveLength(1);
    expect(fake.spent.get(NIGHT)).toEqual({ spentUsd: 0.00195, admitted: 0 });
  });
});
