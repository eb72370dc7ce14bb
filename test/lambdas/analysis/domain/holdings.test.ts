import Big from 'big.js';
import {
  selectMarketRow,
  summarizeHoldings,
  type MarketRow,
} from '../../../../lambdas/analysis/domain/holdings';
import { ownRow, position } from '../flow-fakes';

describe('selectMarketRow', () => {
  it('prefers this service’s newest session over old Python rows', () => {
    // Prepare
    const items = [
      {
        ticker: 'NVDA',
        timestamp: '2026-11-24T04:31:12.123456',
        price: 999,
        asOf: '2026-11-24T04:31:12.123456',
      },
      ownRow('NVDA', '2026-11-20', 140),
      ownRow('NVDA', '2026-11-23', 150),
    ];

    // Act
    const row = selectMarketRow(items);

    // Assess
    expect(row).toEqual({ price: 150, asOf: '2026-11-23', rsi: 50, ma50: 150, legacy: false });
  });

  it('falls back to the newest old Python row, reading a timestamp without zone as UTC', () => {
    // Prepare
    const items = [
      { ticker: 'NVDA', timestamp: '2026-11-21T03:30:00.123456', price: 141.5, rsi: 61.2 },
      { ticker: 'NVDA', timestamp: '2026-11-18T03:30:00.123456', price: 139 },
    ];

    // Act
    const row = selectMarketRow(items);

    // Assess
    expect(row).toEqual({
      price: 141.5,
      asOf: '2026-11-20',
      rsi: 61.2,
      ma50: undefined,
      legacy: true,
    });
  });

  it('returns nothing when no row has a usable price', () => {
    // Act
    const row = selectMarketRow([{ ticker: 'X', timestamp: '2026-11-21T03:30:00', price: 'n/a' }]);

    // Assess
    expect(row).toBeUndefined();
  });
});

describe('summarizeHoldings', () => {
  const data = (asOf: string, price: number): MarketRow => ({ price, asOf, legacy: false });

  it('aggregates lots per ticker with exact decimal market values, weights and P/L', () => {
    // Prepare
    const positions = [
      position('1', 'nvda', '0.1', '10'),
      position('2', ' NVDA', '0.2', '20'),
      position('3', 'AAPL', '3', '660'),
    ];
    const rows = new Map([
      ['NVDA', data('2026-11-23', 3)],
      ['AAPL', data('2026-11-23', 200)],
    ]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    const nvda = summary.holdings.find((h) => h.ticker === 'NVDA')!;
    const aapl = summary.holdings.find((h) => h.ticker === 'AAPL')!;
    expect(nvda).toMatchObject({
      positions: 2,
      shares: '0.3',
      costBasis: '30',
      marketValue: '0.9',
    });
    expect(aapl.marketValue).toBe('600');
    expect(nvda.weightPercent).toBe(Number(new Big('0.9').div('600.9').times(100).toFixed(4)));
    expect(nvda.plPercent).toBe(-97);
    expect(aapl.plPercent).toBe(Number(new Big(-60).div(660).times(100).toFixed(4)));
    expect(summary.holdings.map((h) => h.ticker)).toEqual(['AAPL', 'NVDA']);
    expect(nvda.weightPercent! + aapl.weightPercent!).toBeCloseTo(100, 3);
  });

  it('takes the newest session as dataAsOf and names older holdings as stale and data-less ones as missing', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', '1', '1'),
      position('2', 'AAPL', '1', '1'),
      position('3', 'XYZ', '1', '1'),
    ];
    const rows = new Map<string, MarketRow | undefined>([
      ['NVDA', data('2026-11-20', 10)],
      ['AAPL', data('2026-11-23', 10)],
      ['XYZ', undefined],
    ]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    expect(summary.dataAsOf).toBe('2026-11-23');
    expect(summary.stale).toEqual(['NVDA']);
    expect(summary.missing).toEqual(['XYZ']);
  });

  it('values a holding without market data by its stored marketValue so the weights stay honest', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', '1', '50'),
      position('2', 'XYZ', '2', '40', { marketValue: '100' }),
    ];
    const rows = new Map<string, MarketRow | undefined>([['NVDA', data('2026-11-23', 100)]]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    expect(summary.holdings.map((h) => [h.ticker, h.weightPercent])).toEqual([
      ['NVDA', 50],
      ['XYZ', 50],
    ]);
    expect(summary.holdings.find((h) => h.ticker === 'XYZ')?.plPercent).toBe(150);
  });

  it('leaves out positions with unusable shares or tickers and says why', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', 'abc', '1'),
      position('2', '', '1', '1'),
      position('3', 'AAPL', '1', '1'),
    ];

    // Act
    const summary = summarizeHoldings(positions, new Map([['AAPL', data('2026-11-23', 1)]]));

    // Assess
    expect(summary.holdings.map((h) => h.ticker)).toEqual(['AAPL']);
    expect(summary.invalidPositions.map((p) => p.id)).toEqual(['1', '2']);
  });
});
