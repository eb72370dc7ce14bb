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
    const kept = {
      portfolio: 'p1',
      portfolioName: 'ZSM Seven',
      timestamp: '2026-11-24T06:00:00.000Z',
      dataAsOf: '2026-11-23',
      model: 'grok-4.3-0512',
      promptVersion: 'v1',
      staleTickers: [],
      costUsd: 0.002,
    };
    const row = {
      ...kept,
      parsed_data: JSON.stringify([
        { ticker: 'NVDA', score: 3, reason: 'x' },
        { ticker: 'AAPL', score: 'high' },
        null,
      ]),
      missingTickers: ['NEWCO', 7],
      xaiResponseId: 'not summarised',
    };

    // Act
    const summary = summarizeRow(row);

    // Assess
    expect(summary).toEqual({
      ...kept,
      scores: [{ ticker: 'NVDA', score: 3 }],
      missingTickers: ['NEWCO'],
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
