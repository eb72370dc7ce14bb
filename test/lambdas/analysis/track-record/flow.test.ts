import {
  runTrackRecord,
  type TrackRecordDeps,
} from '../../../../lambdas/analysis/track-record/flow';
import type { TrackRecordItem } from '../../../../lambdas/analysis/track-record/aggregate';
import { collectTickers } from '../../../../lambdas/market-data/domain/collect-tickers';

/** In-memory fakes of the flow's ports: analyses of one portfolio on D, closes on D and D+5. */
function fakes(overrides: Partial<TrackRecordDeps> = {}) {
  const D = '2026-11-02';
  const E = '2026-11-09';
  const closes: Record<string, [number, number]> = {
    SPY: [100, 101],
    AAA: [10, 11],
    BBB: [20, 19],
  };
  const analyses = ['a', 'b', 'c'].map((id) => ({
    portfolio: 'p1',
    timestamp: `${D}T23:0${id === 'a' ? 0 : id === 'b' ? 1 : 2}:00.000Z`,
    model: 'grok',
    promptVersion: 'v1',
    dataAsOf: D,
    parsed_data: JSON.stringify([
      { ticker: 'AAA', score: 3, price: 10 },
      { ticker: 'BBB', score: -2, price: 20 },
    ]),
  }));
  const written: string[] = [];
  const items: TrackRecordItem[] = [];
  const deps: TrackRecordDeps = {
    repo: {
      analysesSince: () => Promise.resolve(analyses),
      tickerRows: (t) =>
        Promise.resolve([
          { asOf: D, price: closes[t][0] },
          { asOf: E, price: closes[t][1] },
        ]),
      writeEvaluation: (key) => {
        written.push(key.timestamp);
        return Promise.resolve('written');
      },
      putTrackRecord: (item) => {
        items.push(item);
        return Promise.resolve();
      },
    },
    portfolioIds: () => Promise.resolve(['p1']),
    refreshedSession: () => Promise.resolve(E),
    obs: { count: () => undefined, log: () => undefined, correlate: () => undefined },
    publish: () => undefined,
    remainingMs: () => 600_000,
    benchmark: 'SPY',
    horizon: 5,
    ...overrides,
  };
  return { deps, written, items };
}

describe('runTrackRecord', () => {
  it('evaluates the due analyses and writes one aggregate item', async () => {
    const { deps, written, items } = fakes();
    const result = await runTrackRecord(deps);
    expect(result).toMatchObject({ complete: true, evaluated: 3, analysesRead: 3 });
    expect(written).toHaveLength(3);
    expect(items).toEqual([
      expect.objectContaining({ modelPrompt: 'grok#v1', asOf: '2026-11-09', analyses: 3 }),
    ]);
  });

  it('stops at the per-run bound and writes no partial aggregate', async () => {
    const { deps, written, items } = fakes({ maxEvaluations: 2 });
    const result = await runTrackRecord(deps);
    expect(result).toMatchObject({ complete: false, evaluated: 2 });
    expect(written).toHaveLength(2);
    expect(items).toEqual([]);
  });

  it('starts no work when the invocation is about to time out', async () => {
    const { deps, written, items } = fakes({ remainingMs: () => 30_000 });
    expect(await runTrackRecord(deps)).toMatchObject({ complete: false, evaluated: 0 });
    expect(written).toEqual([]);
    expect(items).toEqual([]);
  });

  it('evaluates nothing before D+h is refreshed', async () => {
    const { deps, written } = fakes({ refreshedSession: () => Promise.resolve('2026-11-06') });
    expect(await runTrackRecord(deps)).toMatchObject({ complete: true, evaluated: 0, notDue: 3 });
    expect(written).toEqual([]);
  });
});

describe('collectTickers with the benchmark', () => {
  it('adds the benchmark once, held or not, without counting it as merged', () => {
    const held = [{ raw: 'spy', portfolioId: 'p', positionId: 'x' }];
    expect(collectTickers(held, ['SPY'])).toMatchObject({ tickers: ['SPY'], merged: 0 });
    expect(collectTickers([], ['SPY']).tickers).toEqual(['SPY']);
  });
});
