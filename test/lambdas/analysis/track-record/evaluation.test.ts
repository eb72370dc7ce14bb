import { applySplits } from '../../../../lambdas/market-data/domain/splits';
import type { TickerDataRow } from '../../../../lambdas/market-data/domain/ticker-rows';
import { closesOf } from '../../../../lambdas/analysis/track-record/closes';
import {
  averageRanks,
  evaluateAnalysis,
  horizonSession,
  spearman,
  type ClosePair,
} from '../../../../lambdas/analysis/track-record/evaluation';

const D = '2026-11-02';
const D5 = '2026-11-09';

const evaluate = (scores: { ticker: string; score: number }[], closes: Record<string, ClosePair>) =>
  evaluateAnalysis({
    scores,
    horizon: 5,
    evaluatedAt: D5,
    benchmark: 'SPY',
    closes: new Map(Object.entries(closes)),
  });

describe('averageRanks', () => {
  it('gives ties the average of the ranks they span', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([3, 3, 3])).toEqual([2, 2, 2]);
    expect(averageRanks([-1, 5, 0])).toEqual([1, 3, 2]);
  });
});

describe('spearman', () => {
  it('is the Pearson correlation of tie-averaged ranks, not the 1 − 6Σd²/(n(n²−1)) shortcut', () => {
    // ranks x = [3.5, 3.5, 2, 1], y = [4, 3, 2, 1]: Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5
    const ic = spearman([5, 5, 0, -3], [0.02, 0.01, 0, -0.01]);
    expect(ic).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(ic).toBeCloseTo(0.948683, 6);
    expect(ic).not.toBeCloseTo(0.95, 4); // what the shortcut gives
  });

  it('is absent below 3 pairs and without variance on either side', () => {
    expect(spearman([1, 2], [0.1, 0.2])).toBeUndefined();
    expect(spearman([0, 0, 0], [0.1, 0.2, 0.3])).toBeUndefined();
    expect(spearman([1, 2, 3], [0.1, 0.1, 0.1])).toBeUndefined();
    expect(spearman([1, 2, 3], [0.3, 0.2, 0.1])).toBe(-1);
  });
});

describe('evaluateAnalysis', () => {
  it('computes returns, excess, hits, decided, hit rate and IC (hand-computed)', () => {
    const out = evaluate(
      [
        { ticker: 'AAA', score: 5 }, // +10 %, excess +8 %: hit
        { ticker: 'BBB', score: -3 }, // −5 %, excess −7 %: hit
        { ticker: 'CCC', score: 0 }, // zero score: not decided
        { ticker: 'DDD', score: 2 }, // +2 % = benchmark, zero excess: not decided
        { ticker: 'EEE', score: 4 }, // −5 %, excess −7 %: miss
        { ticker: 'FFF', score: 1 }, // no close on D+h: left out
      ],
      {
        SPY: { start: 100, end: 102 },
        AAA: { start: 50, end: 55 },
        BBB: { start: 20, end: 19 },
        CCC: { start: 10, end: 11 },
        DDD: { start: 100, end: 102 },
        EEE: { start: 40, end: 38 },
        FFF: { start: 10 },
      },
    );
    if (!out.ok) throw new Error('not evaluated');
    const e = out.evaluation;
    expect(e).toMatchObject({ horizon: 5, evaluatedAt: D5, benchmark: 'SPY', n: 5 });
    expect(e.benchmarkReturn).toBeCloseTo(0.02, 12);
    expect(e.decided).toBe(3);
    expect(e.hits).toBe(2);
    expect(e.hitRate).toBeCloseTo(2 / 3, 12);
    expect(e.tickers.map((t) => t.ticker)).toEqual(['AAA', 'BBB', 'CCC', 'DDD', 'EEE']);
    expect(e.tickers[0].return).toBeCloseTo(0.1, 12);
    expect(e.tickers[0].excess).toBeCloseTo(0.08, 12);
    expect(e.tickers[3].excess).toBe(0);
    // ranks x = [5, 1, 2, 3, 4], y = [4.5, 1.5, 4.5, 3, 1.5]: Σdxdy = 3, Σdx² = 10, Σdy² = 9
    expect(e.ic).toBeCloseTo(3 / Math.sqrt(90), 12);
  });

  it('has no hit rate when nothing is decided and no IC without score variance', () => {
    const out = evaluate(
      [
        { ticker: 'AAA', score: 0 },
        { ticker: 'BBB', score: 0 },
        { ticker: 'CCC', score: 0 },
      ],
      {
        SPY: { start: 100, end: 101 },
        AAA: { start: 10, end: 12 },
        BBB: { start: 10, end: 9 },
        CCC: { start: 10, end: 10 },
      },
    );
    if (!out.ok) throw new Error('not evaluated');
    expect(out.evaluation).toMatchObject({ n: 3, decided: 0, hits: 0 });
    expect(out.evaluation).not.toHaveProperty('hitRate');
    expect(out.evaluation).not.toHaveProperty('ic');
  });

  it('has no IC with fewer than 3 tickers (one holding: n = 1)', () => {
    const out = evaluate([{ ticker: 'AAA', score: -6 }], {
      SPY: { start: 100, end: 101 },
      AAA: { start: 10, end: 9 },
    });
    if (!out.ok) throw new Error('not evaluated');
    expect(out.evaluation).toMatchObject({ n: 1, decided: 1, hits: 1, hitRate: 1 });
    expect(out.evaluation).not.toHaveProperty('ic');
  });

  it('waits (evaluates nothing) without both closes of the benchmark', () => {
    expect(evaluate([{ ticker: 'AAA', score: 1 }], { AAA: { start: 1, end: 2 } })).toEqual({
      ok: false,
      reason: 'benchmark-missing',
    });
    expect(
      evaluate([{ ticker: 'AAA', score: 1 }], {
        SPY: { start: 100 },
        AAA: { start: 1, end: 2 },
      }).ok,
    ).toBe(false);
  });

  it('stores n = 0 when no scored ticker has both closes', () => {
    const out = evaluate([{ ticker: 'AAA', score: 3 }], { SPY: { start: 100, end: 99 } });
    expect(out).toMatchObject({ ok: true, evaluation: { n: 0, decided: 0, hits: 0 } });
  });
});

describe('a split inside the horizon', () => {
  const row = (asOf: string, price: number, fetchedAt: string): TickerDataRow => ({
    ticker: 'AAA',
    timestamp: `${asOf}T21:00:00.000Z`,
    asOf,
    price,
    source: 'polygon-grouped',
    fetchedAt,
  });

  it('reads closes on today’s basis: a 2-for-1 split on D+2 is no −50 % return', () => {
    // Stored on D (fetched that night) at 100; the split executes on 2026-11-04; D+5 closes at 51.
    const stored = [
      row(D, 100, '2026-11-03T04:30:00.000Z'),
      row('2026-11-03', 101, '2026-11-04T04:30:00.000Z'),
      row('2026-11-04', 50.5, '2026-11-05T04:30:00.000Z'),
      row(D5, 51, '2026-11-10T04:30:00.000Z'),
    ];
    const split = { ticker: 'AAA', executionDate: '2026-11-04', splitFrom: 1, splitTo: 2 };
    const { rows } = applySplits(stored, [split], '2026-11-05T04:30:00.000Z');
    const pair = closesOf(rows as unknown as Record<string, unknown>[], D, D5);
    expect(pair).toEqual({ start: 50, end: 51 });
    const out = evaluate([{ ticker: 'AAA', score: 2 }], {
      SPY: { start: 100, end: 100 },
      AAA: pair,
    });
    if (!out.ok) throw new Error('not evaluated');
    expect(out.evaluation.tickers[0].return).toBeCloseTo(0.02, 12);
    expect(out.evaluation.hits).toBe(1);
  });
});

describe('closesOf', () => {
  it('takes the price of the rows of D and D+h (old ISO asOf included), ignoring bad prices', () => {
    expect(
      closesOf(
        [
          { asOf: `${D}T00:00:00`, price: 10 },
          { asOf: '2026-11-03', price: 11 },
          { asOf: D5, price: 'n/a' },
        ],
        D,
        D5,
      ),
    ).toEqual({ start: 10 });
  });
});

describe('horizonSession', () => {
  it('counts NYSE sessions, skipping weekends and holidays', () => {
    expect(horizonSession(D, 5)).toBe(D5);
    // Thanksgiving 2026-11-26 is closed: 5 sessions after 2026-11-20
    expect(horizonSession('2026-11-20', 5)).toBe('2026-11-30');
  });
});
