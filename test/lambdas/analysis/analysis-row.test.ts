import {
  COMPLETION_TOKENS_MAX,
  completionTokenBudget,
  summarizeRow,
  ticksToUsd,
} from '../../../lambdas/analysis/analysis-row';

describe('completionTokenBudget', () => {
  it('grows with the number of tickers and is capped', () => {
    // Act
    const small = completionTokenBudget(3);
    const large = completionTokenBudget(30);
    const huge = completionTokenBudget(10_000);

    // Assess
    expect(large).toBeGreaterThan(small);
    expect(huge).toBe(COMPLETION_TOKENS_MAX);
  });
});

describe('ticksToUsd', () => {
  it('converts xAI cost ticks (10^10 per USD) without float noise', () => {
    // Act
    const usd = ticksToUsd(19_500_000);

    // Assess
    expect(usd).toBe(0.00195);
  });
});

describe('summarizeRow', () => {
  it('decodes parsed_data once and keeps only well-formed scores', () => {
    // Prepare
    const row = {
      portfolio: 'p1',
      portfolioName: 'ZSM Seven',
      timestamp: '2026-11-24T06:00:00.000Z',
      dataAsOf: '2026-11-23',
      model: 'grok-4.3-0512',
      promptVersion: 'v1',
      parsed_data: JSON.stringify([
        { ticker: 'NVDA', score: 3, reason: 'x' },
        { ticker: 'AAPL', score: 'high' },
        null,
      ]),
      missingTickers: ['NEWCO', 7],
      staleTickers: [],
      costUsd: 0.002,
    };

    // Act
    const summary = summarizeRow(row);

    // Assess
    expect(summary).toEqual({
      portfolio: 'p1',
      portfolioName: 'ZSM Seven',
      timestamp: '2026-11-24T06:00:00.000Z',
      dataAsOf: '2026-11-23',
      model: 'grok-4.3-0512',
      promptVersion: 'v1',
      scores: [{ ticker: 'NVDA', score: 3 }],
      missingTickers: ['NEWCO'],
      staleTickers: [],
      costUsd: 0.002,
    });
  });

  it('returns no scores for a parsed_data that is not JSON', () => {
    // Act
    const summary = summarizeRow({ parsed_data: 'not json' });

    // Assess
    expect(summary.scores).toEqual([]);
    expect(summary.portfolio).toBe('');
  });
});
