import { NumberValue } from '@aws-sdk/lib-dynamodb';
import {
  checkPortfolio,
  checkPosition,
  reportInvalidRecords,
} from '../../../lambdas/portfolios/records';

const sound = {
  id: 'pos-1',
  portfolioId: 'p-1',
  ticker: ' nvda',
  shares: NumberValue.from('12345678901.234567891'),
  costBasis: NumberValue.from('1200'),
  marketValue: NumberValue.from('1500.5'),
};

describe('checkPosition', () => {
  it('keeps a sound position with exact decimals and its ticker as stored', () => {
    expect(checkPosition(sound)).toEqual({
      ok: true,
      value: {
        id: 'pos-1',
        portfolioId: 'p-1',
        ticker: ' nvda',
        shares: '12345678901.234567891',
        costBasis: '1200',
        marketValue: '1500.5',
        currentPrice: undefined,
        unrealizedPL: undefined,
      },
    });
    expect(checkPosition({ ...sound, shares: 2.5, costBasis: 0 }).ok).toBe(true);
  });

  it.each([
    ['missing shares', { shares: undefined }, 'shares is missing'],
    ['costBasis "n/a"', { costBasis: 'n/a' }, 'costBasis "n/a" is not a number'],
    ['shares as a string', { shares: '10' }, 'shares "10" is not a number'],
    ['shares NaN', { shares: NumberValue.from('NaN') }, 'shares NaN is not a number'],
    ['a numeric ticker', { ticker: 42 }, 'ticker not a string (42)'],
    ['a non-ASCII ticker', { ticker: 'ıbm' }, 'ticker "ıbm" is not a ticker'],
    ['no ticker', { ticker: undefined }, 'ticker not a string (undefined)'],
    ['no portfolio id', { portfolioId: '' }, 'portfolioId "" is not a non-empty string'],
  ])('sets aside a position with %s, naming its id and the reason', (_name, change, reason) => {
    const checked = checkPosition({ ...sound, ...change });
    expect(checked).toEqual({
      ok: false,
      invalid: expect.objectContaining({
        kind: 'position',
        id: 'pos-1',
        reason: expect.stringContaining(reason),
      }),
    });
  });

  it('names a position without an id as (none) and clips long echoed values', () => {
    const checked = checkPosition({ ...sound, id: undefined, shares: 'x'.repeat(10_000) });
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.invalid.id).toBe('(none)');
    const long = checkPosition({ ...sound, costBasis: 'y'.repeat(10_000) });
    expect(!long.ok && long.invalid.reason.length).toBeLessThan(150);
  });
});

describe('checkPortfolio', () => {
  it('keeps a portfolio with an id, dropping ill-typed attributes', () => {
    expect(checkPortfolio({ id: 'p-1', name: 7, isActive: 'yes', userId: 'u' })).toEqual({
      ok: true,
      value: { id: 'p-1', name: undefined, userId: 'u', isActive: undefined },
    });
  });

  it.each([[undefined], [''], [12]])('sets aside a portfolio whose id is %j', (id) => {
    expect(checkPortfolio({ id, name: 'No id' })).toEqual({
      ok: false,
      invalid: expect.objectContaining({ kind: 'portfolio', id: '(none)' }),
    });
  });
});

describe('reportInvalidRecords', () => {
  it('counts each item under its metric and names it in one WARN line', () => {
    const counts: [string, number][] = [];
    const lines: [string, string, Record<string, unknown> | undefined][] = [];
    const report = reportInvalidRecords({
      count: (m, v) => counts.push([m, v]),
      log: (level, message, data) => lines.push([level, message, data]),
    });
    report({ kind: 'position', id: 'pos-9', portfolioId: 'p-1', reason: 'shares is missing' });
    report({ kind: 'portfolio', id: '(none)', reason: 'id undefined is not a non-empty string' });
    expect(counts).toEqual([
      ['InvalidPositions', 1],
      ['InvalidPortfolios', 1],
    ]);
    expect(lines).toEqual([
      [
        'warn',
        expect.stringContaining('Position skipped'),
        { positionId: 'pos-9', portfolioId: 'p-1', reason: 'shares is missing' },
      ],
      [
        'warn',
        expect.stringContaining('Portfolio skipped'),
        { portfolioId: '(none)', reason: 'id undefined is not a non-empty string' },
      ],
    ]);
  });
});
