import {
  ANALYSIS_NIGHT_START,
  COST_PER_ANALYSIS_TICKS,
  COST_PER_ANALYSIS_USD,
  MAX_COST_PER_ANALYSIS_USD,
  ModelledSpendLedger,
  runAnalysisNight,
} from '../../../scripts/bench/analysis-night';
import { analysisSection, runAnalysisNights } from '../../../scripts/bench/analysis-report';
import { nightOf } from '../../../lambdas/analysis/spend-cap';

/** Every date here is the bench's own simulated night, never the real date. */
const T0 = ANALYSIS_NIGHT_START;
const night = nightOf(T0);

describe('ModelledSpendLedger (the cap as spend-cap.ts applies it)', () => {
  it('admits while the recorded spend is below the cap and skips once it is reached', () => {
    const ledger = new ModelledSpendLedger(2 * COST_PER_ANALYSIS_USD);
    expect(ledger.admit(T0)).toBe(night);
    ledger.bill(night, COST_PER_ANALYSIS_TICKS, T0 + 10_000);
    expect(ledger.admit(T0 + 10_000)).toBe(night); // one analysis spent: still below
    ledger.bill(night, COST_PER_ANALYSIS_TICKS, T0 + 20_000);
    // Exactly at the cap is reached (spentUsd < cap fails), not a float rounding below it.
    expect(ledger.admit(T0 + 20_000)).toBeUndefined();
    expect(ledger.spentOn(night, T0 + 20_000)).toBe(2 * COST_PER_ANALYSIS_USD);
    expect({ admitted: ledger.admitted, skipped: ledger.skipped }).toEqual({
      admitted: 2,
      skipped: 1,
    });
  });

  it('adds a cost when the answer arrives, so calls admitted before then still go through', () => {
    const ledger = new ModelledSpendLedger(COST_PER_ANALYSIS_USD);
    expect(ledger.admit(T0)).toBe(night);
    ledger.bill(night, COST_PER_ANALYSIS_TICKS, T0 + 15_000);
    // The first answer has not arrived: the recorded spend is still 0.
    expect(ledger.admit(T0 + 14_999)).toBe(night);
    expect(ledger.admit(T0 + 15_000)).toBeUndefined();
  });

  it('starts a new UTC day afresh, and never refuses without a cap', () => {
    const ledger = new ModelledSpendLedger(COST_PER_ANALYSIS_USD);
    ledger.bill(night, COST_PER_ANALYSIS_TICKS, T0);
    expect(ledger.admit(T0 + 1)).toBeUndefined();
    const nextDay = T0 + 18 * 3_600_000; // 00:00 UTC the next day
    expect(ledger.admit(nextDay)).toBe(nightOf(nextDay));
    expect(nightOf(nextDay)).not.toBe(night);

    const uncapped = new ModelledSpendLedger(undefined);
    uncapped.bill(night, 1e12, T0);
    expect(uncapped.admit(T0 + 1)).toBe(night);
  });
});

describe('runAnalysisNight with a cap', () => {
  it('loses no portfolio: each is analysed or skipped for budget, and the spend stops within the bound', () => {
    const r = runAnalysisNight({ portfolios: 2_000, capUsd: 8.75 });
    const cap = r.cap!;
    expect(cap.sent + cap.skippedBudget).toBe(2_000);
    expect(cap.skippedBudget).toBeGreaterThan(0);
    expect(cap.spentUsd).toBeGreaterThanOrEqual(8.75);
    expect(cap.spentUsd).toBeCloseTo(cap.sent * COST_PER_ANALYSIS_USD, 8);
    expect(cap.boundUsd).toBeCloseTo(r.concurrency * MAX_COST_PER_ANALYSIS_USD, 10);
    expect(cap.overshootUsd).toBeLessThan(cap.boundUsd);
    expect(cap.withinBound).toBe(true);
  });

  it('overshoots by the analyses in flight when the cap is reached, not by nothing', () => {
    // 40 slots with 8-20 s answers: when the cap is reached most slots have an admitted call out.
    const r = runAnalysisNight({ portfolios: 2_000, fixedConcurrency: 40, capUsd: 4.375 });
    const cap = r.cap!;
    expect(cap.overshootUsd).toBeGreaterThan(cap.boundUsd / 2);
    expect(cap.overshootUsd).toBeLessThan(cap.boundUsd);
  });

  it('reports no cap outcome when uncapped, and a cap above the night changes nothing', () => {
    const free = runAnalysisNight({ portfolios: 500 });
    expect(free.cap).toBeUndefined();
    const high = runAnalysisNight({ portfolios: 500, capUsd: 1_000 });
    expect(high.cap).toMatchObject({ sent: 500, skippedBudget: 0, overshootUsd: 0 });
    expect(high.completionMs).toBe(free.completionMs);
  });
});

describe('runAnalysisNight under 429s (events in time order)', () => {
  it('waits a Retry-After inside the invocation before re-queuing: 3 429s per re-queue at least', () => {
    // 1,000 slots force the limits (1,250 analyses a minute by TPM). A Retry-After is at most
    // the 60-s window, so an invocation always has time for its 3 attempts before deferring.
    const r = runAnalysisNight({ portfolios: 20_000, fixedConcurrency: 1_000 });
    expect(r.analysed).toBe(20_000);
    expect(r.deferrals).toBeGreaterThan(0);
    expect(r.http429).toBeGreaterThanOrEqual(3 * r.deferrals);
    expect(r.rateLimitFailures).toBe(0);
  });
});

describe('analysisSection', () => {
  it('renders the cap runs with their bound', () => {
    const lines = analysisSection(runAnalysisNights([1_000, 10_000])).join('\n');
    expect(lines).not.toContain('needs the cap branch');
    expect(lines).toMatch(/\| 10,000 \| \$43\.75 \(half of \$87\.50\) \| [\d,]+ \| [\d,]+ \|/);
    expect(lines).toContain('7 × $0.00875 = $0.0613 | yes |');
  });
});
