import {
  aggregateTrackRecord,
  type EvaluatedAnalysis,
} from '../../../../lambdas/analysis/track-record/aggregate';
import type { Evaluation } from '../../../../lambdas/analysis/track-record/evaluation';
import { readStoredAnalysis } from '../../../../lambdas/analysis/track-record/stored-analysis';

const analysis = (
  model: string,
  evaluatedAt: string,
  e: Partial<Evaluation>,
): EvaluatedAnalysis => ({
  portfolio: 'p',
  timestamp: `${evaluatedAt}T10:00:00.000Z`,
  model,
  promptVersion: 'v3',
  dataAsOf: '2026-11-02',
  evaluation: {
    horizon: 5,
    evaluatedAt,
    benchmark: 'SPY',
    benchmarkReturn: 0,
    n: 0,
    decided: 0,
    hits: 0,
    tickers: [],
    ...e,
  },
});

const window = ['2026-11-09', '2026-11-10', '2026-11-11'];

describe('aggregateTrackRecord', () => {
  it('pools hits, averages ICs with a standard error and interval, and takes long minus short', () => {
    const items = aggregateTrackRecord(
      [
        analysis('grok', '2026-11-09', {
          n: 3,
          decided: 2,
          hits: 1,
          ic: 0.5,
          tickers: [
            { ticker: 'A', score: 4, return: 0, excess: 0.1 },
            { ticker: 'B', score: -4, return: 0, excess: 0.02 },
            { ticker: 'C', score: 3, return: 0, excess: 0.5 }, // neither long nor short
          ],
        }),
        analysis('grok', '2026-11-10', {
          n: 2,
          decided: 2,
          hits: 2,
          ic: 0.1,
          tickers: [
            { ticker: 'A', score: 8, return: 0, excess: 0.04 },
            { ticker: 'D', score: -10, return: 0, excess: -0.06 },
          ],
        }),
        analysis('grok', '2026-11-11', { n: 2, decided: 1, hits: 0 }), // no IC
        analysis('grok', '2026-11-06', { n: 9, decided: 9, hits: 9, ic: 1 }), // outside
      ],
      '2026-11-11',
      window,
    );
    expect(items).toHaveLength(1);
    const item = items[0];
    expect(item).toMatchObject({
      modelPrompt: 'grok#v3',
      asOf: '2026-11-11',
      model: 'grok',
      promptVersion: 'v3',
      window: 3,
      analyses: 3,
      scores: 7,
      decided: 5,
      hits: 3,
      icAnalyses: 2,
    });
    expect(item.hitRate).toBeCloseTo(3 / 5, 12);
    // ICs 0.5 and 0.1: mean 0.3, sd = √0.08, se = √0.08 / √2 = 0.2
    expect(item.meanIc).toBeCloseTo(0.3, 12);
    expect(item.icStdErr).toBeCloseTo(0.2, 12);
    expect(item.icLow).toBeCloseTo(0.3 - 1.96 * 0.2, 12);
    expect(item.icHigh).toBeCloseTo(0.3 + 1.96 * 0.2, 12);
    // long: (0.1 + 0.04) / 2 = 0.07; short: (0.02 − 0.06) / 2 = −0.02
    expect(item.longMinusShort).toBeCloseTo(0.09, 12);
  });

  it('keeps models apart and leaves out what cannot be computed', () => {
    const items = aggregateTrackRecord(
      [
        analysis('b-model', '2026-11-09', { n: 1, ic: 0.2 }),
        analysis('a-model', '2026-11-09', { n: 2 }),
      ],
      '2026-11-11',
      window,
    );
    expect(items.map((i) => i.modelPrompt)).toEqual(['a-model#v3', 'b-model#v3']);
    expect(items[0]).not.toHaveProperty('hitRate');
    expect(items[0]).not.toHaveProperty('meanIc');
    expect(items[0]).not.toHaveProperty('longMinusShort');
    // one IC: a mean but no interval
    expect(items[1]).toMatchObject({ meanIc: 0.2, icAnalyses: 1 });
    expect(items[1]).not.toHaveProperty('icStdErr');
  });
});

describe('readStoredAnalysis', () => {
  const row = {
    portfolio: 'p1',
    timestamp: '2026-11-03T06:01:00.000Z',
    model: 'grok-4.3',
    promptVersion: 'v3',
    dataAsOf: '2026-11-02',
    parsed_data: JSON.stringify([{ ticker: 'NVDA', score: 3, reason: 'r', price: 10 }]),
  };

  it('reads a pending analysis', () => {
    expect(readStoredAnalysis(row)).toMatchObject({
      kind: 'pending',
      dataAsOf: '2026-11-02',
      scores: [{ ticker: 'NVDA', score: 3 }],
    });
  });

  it('calls the old service’s rows legacy (no dataAsOf, no prompt version, no prices)', () => {
    expect(readStoredAnalysis({ ...row, dataAsOf: undefined }).kind).toBe('legacy');
    expect(readStoredAnalysis({ ...row, promptVersion: undefined }).kind).toBe('legacy');
    const noPrices = JSON.stringify([{ ticker: 'NVDA', score: 3, reason: 'r' }]);
    expect(readStoredAnalysis({ ...row, parsed_data: noPrices }).kind).toBe('legacy');
  });

  it('never evaluates a failed or unreadable analysis', () => {
    expect(readStoredAnalysis({ ...row, error: 'boom' }).kind).toBe('invalid');
    expect(readStoredAnalysis({ ...row, parsed_data: '{"x":' }).kind).toBe('invalid');
    const outOfRange = JSON.stringify([{ ticker: 'NVDA', score: 11, price: 1 }]);
    expect(readStoredAnalysis({ ...row, parsed_data: outOfRange }).kind).toBe('invalid');
  });

  it('reads an evaluation back', () => {
    const evaluation = {
      horizon: 5,
      evaluatedAt: '2026-11-09',
      benchmark: 'SPY',
      benchmarkReturn: 0.01,
      n: 1,
      decided: 1,
      hits: 1,
      hitRate: 1,
      tickers: [{ ticker: 'NVDA', score: 3, return: 0.02, excess: 0.01 }],
    };
    expect(readStoredAnalysis({ ...row, evaluation })).toMatchObject({
      kind: 'evaluated',
      evaluation,
    });
  });
});
