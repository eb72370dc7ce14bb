import {
  deadlineAfter,
  deriveConcurrency,
  xaiRatePerMinute,
  type PacingLimits,
} from '../../../lambdas/analysis/throughput';

/** 06:00 UTC on a Tuesday (any fixed instant: the derivation never reads the clock). */
const SIX = Date.UTC(2026, 10, 17, 6, 0, 0);
const MIN = 60_000;

/** The team tier today, 15 s and 8,000 tokens per analysis: xAI carries 1,125 analyses/min. */
const LIMITS: PacingLimits = {
  requestsPerMinute: 1_800,
  tokensPerMinute: 10_000_000,
  tokensPerAnalysis: 8_000,
  secondsPerAnalysis: 15,
  deadlineUtc: '13:30',
  maxConcurrency: 400,
};

describe('deriveConcurrency', () => {
  it('uses Lambda minimum of 2 when the night is small (1,000 portfolios finish at 08:05)', () => {
    // Act
    const plan = deriveConcurrency(1_000, SIX, LIMITS);

    // Assess
    expect(plan).toMatchObject({ concurrency: 2, boundBy: 'minimum', meetsDeadline: true });
    expect(plan.expectedFinishMs - SIX).toBe(125 * MIN);
  });

  it('within the limits: 10,000 portfolios get just enough slots to finish inside 80 % of the window', () => {
    // Act
    const plan = deriveConcurrency(10_000, SIX, LIMITS);

    // Assess: 450 min to 13:30, 360 planned; 10,000 / 360 / 4 per slot = 6.9 → 7 slots
    expect(plan).toMatchObject({ concurrency: 7, boundBy: 'work', perMinute: 28 });
    expect(plan.deadlineMs).toBe(SIX + 450 * MIN);
    expect(plan.expectedFinishMs).toBeLessThanOrEqual(SIX + 360 * MIN);
    expect(plan.meetsDeadline).toBe(true);
  });

  it('at the limits: the work needs exactly the concurrency the token limit carries', () => {
    // Prepare: 281 slots × 4/min × 360 min
    const n = 281 * 4 * 360;

    // Act
    const plan = deriveConcurrency(n, SIX, LIMITS);

    // Assess
    expect(plan).toMatchObject({ concurrency: 281, xaiConcurrency: 281, boundBy: 'work' });
    expect(plan.meetsDeadline).toBe(true);
  });

  it('above the limits: stops at the token limit and says when the deadline is missed', () => {
    // Act
    const slack = deriveConcurrency(500_000, SIX, LIMITS);
    const late = deriveConcurrency(600_000, SIX, LIMITS);

    // Assess: 281 slots carry 1,124/min; 500,000 take 445 min (inside 450), 600,000 take 534
    expect(slack).toMatchObject({ concurrency: 281, boundBy: 'xai-tpm', meetsDeadline: true });
    expect(late).toMatchObject({ concurrency: 281, boundBy: 'xai-tpm', meetsDeadline: false });
    expect(late.expectedFinishMs - SIX).toBe(Math.ceil((600_000 / 1_124) * MIN));
  });

  it('is bound by requests per minute when analyses are small in tokens', () => {
    // Act
    const plan = deriveConcurrency(1_000_000, SIX, { ...LIMITS, tokensPerAnalysis: 1_000 });

    // Assess: 1,800 × 0.9 = 1,620/min = 405 slots of 4/min; the ceiling (400) is lower
    expect(xaiRatePerMinute({ ...LIMITS, tokensPerAnalysis: 1_000 })).toEqual({
      perMinute: 1_620,
      by: 'xai-rpm',
    });
    expect(plan).toMatchObject({ concurrency: 400, boundBy: 'ceiling', xaiConcurrency: 405 });
    const open = deriveConcurrency(1_000_000, SIX, {
      ...LIMITS,
      tokensPerAnalysis: 1_000,
      maxConcurrency: 1_000,
    });
    expect(open).toMatchObject({ concurrency: 405, boundBy: 'xai-rpm' });
  });

  it('stops at the stage ceiling (account concurrency) before the xAI limits', () => {
    // Act
    const plan = deriveConcurrency(100_000, SIX, { ...LIMITS, maxConcurrency: 50 });

    // Assess: 50 slots × 4/min = 200/min: 500 min, after 13:30
    expect(plan).toMatchObject({ concurrency: 50, boundBy: 'ceiling', meetsDeadline: false });
  });

  it('plans for the next deadline when started after it', () => {
    // Act
    const plan = deriveConcurrency(1_000, SIX + 8 * 60 * MIN, LIMITS);

    // Assess
    expect(plan.deadlineMs).toBe(SIX + (450 + 24 * 60) * MIN);
  });

  it('rejects limits that make no sense', () => {
    expect(() => deriveConcurrency(1, SIX, { ...LIMITS, secondsPerAnalysis: 0 })).toThrow(
      /secondsPerAnalysis/,
    );
    expect(() => deriveConcurrency(1, SIX, { ...LIMITS, maxConcurrency: 1 })).toThrow(/at least 2/);
    expect(() => deadlineAfter(SIX, '25:00')).toThrow(/HH:MM/);
  });
});
