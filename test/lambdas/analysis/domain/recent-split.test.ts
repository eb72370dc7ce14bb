import {
  RECENT_SPLIT_SESSIONS,
  selectMarketRow,
} from '../../../../lambdas/analysis/domain/holdings';
import { buildAnalysisPrompt } from '../../../../lambdas/analysis/domain/prompt';
import { tradingDaysBack } from '../../../../lambdas/market-data/domain/market-calendar';
import { ownRow } from '../flow-fakes';

const DAYS = tradingDaysBack('2026-11-20', 40);
const rows = (splitAt?: number, split: Record<string, unknown> = { from: 1, to: 10 }) =>
  DAYS.map((d, i) => ownRow('NVDA', d, 100 + i, i === splitAt ? { split } : {}));

describe('recent splits in the analysis', () => {
  it('carries the newest split within the last 30 sessions on the market row', () => {
    // Act
    const row = selectMarketRow(rows(DAYS.length - RECENT_SPLIT_SESSIONS));

    // Assess
    expect(row?.recentSplit).toEqual({
      asOf: DAYS[DAYS.length - RECENT_SPLIT_SESSIONS],
      from: 1,
      to: 10,
    });
  });

  it('forgets a split older than 30 sessions, and ignores an unreadable split mark', () => {
    // Act
    const old = selectMarketRow(rows(DAYS.length - RECENT_SPLIT_SESSIONS - 1));
    const unreadable = selectMarketRow(rows(35, { from: 'one', to: 10 }));

    // Assess
    expect(old).not.toHaveProperty('recentSplit');
    expect(unreadable).not.toHaveProperty('recentSplit');
  });

  it('tells the model which holding split (forward or reverse) and that P/L may use old shares', () => {
    // Act
    const prompt = buildAnalysisPrompt({
      portfolioName: 'ZSM Seven',
      holdings: [
        {
          ticker: 'NVDA',
          price: 12,
          asOf: '2026-11-20',
          recentSplit: { asOf: '2026-11-18', from: 1, to: 10 },
        },
        {
          ticker: 'AAPL',
          price: 200,
          asOf: '2026-11-20',
          recentSplit: { asOf: '2026-11-19', from: 4, to: 1 },
        },
        { ticker: 'MSFT', price: 400, asOf: '2026-11-20' },
      ],
      missing: [],
      dataAsOf: '2026-11-20',
      stale: [],
    });

    // Assess
    const line = prompt.user.split('\n').find((l) => l.startsWith('Stock splits'));
    expect(line).toContain('NVDA 10-for-1 split on 2026-11-18');
    expect(line).toContain('AAPL 1-for-4 reverse split on 2026-11-19');
    expect(line).not.toContain('MSFT');
    expect(line).toMatch(/pl_pct may still count pre-split shares/);
    expect(prompt.user).not.toContain('recentSplit');
  });

  it('adds no split line when no holding split', () => {
    // Act
    const prompt = buildAnalysisPrompt({
      portfolioName: 'ZSM Seven',
      holdings: [{ ticker: 'MSFT', price: 400, asOf: '2026-11-20' }],
      missing: [],
      dataAsOf: '2026-11-20',
      stale: [],
    });

    // Assess
    expect(prompt.user).not.toMatch(/split/i);
  });
});
