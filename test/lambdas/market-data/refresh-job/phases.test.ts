import { rowFromBar, type TickerDataRow } from '../../../../lambdas/market-data/domain/ticker-rows';
import { JobProgress, keepsStored } from '../../../../lambdas/market-data/refresh-job/deferral';
import { mergeRows } from '../../../../lambdas/market-data/refresh-job/merge';
import type { PlannedJob } from '../../../../lambdas/market-data/refresh-job/plan';

const row = (session: string, close: number, computed = false): TickerDataRow => ({
  ...rowFromBar(
    'NVDA',
    { ticker: 'NVDA', session, open: close, high: close, low: close, close, volume: 1 },
    'polygon-range',
    '2026-11-21T04:30:00.000Z',
  ),
  ...(computed ? { indicatorVersion: 1 } : {}),
});

const job: PlannedJob = {
  v: 1,
  kind: 'refresh',
  runId: 'r',
  session: '2026-11-20',
  tickers: ['NVDA'],
  plan: {
    strategy: 'range',
    calls: [
      { kind: 'grouped', date: '2026-11-20' },
      { kind: 'range', ticker: 'NVDA', from: '2026-11-19', to: '2026-11-20' },
    ],
  },
  done: [],
  deferrals: 2,
};

describe('JobProgress (the deferral state)', () => {
  it('tracks done calls once each and resumes with them and one more deferral', () => {
    const progress = new JobProgress(job, new Map(), 'at');
    progress.markDone(job.plan.calls[1]);
    progress.markDone(job.plan.calls[1]);
    expect(progress.pendingCalls()).toEqual([job.plan.calls[0]]);
    expect(progress.resumedJob()).toMatchObject({ done: ['range:NVDA'], deferrals: 3 });
    expect(job.done).toEqual([]);
  });

  it('persists fetched rows except over a computed row with the same close', () => {
    const stored = new Map([['NVDA', [row('2026-11-19', 10, true), row('2026-11-18', 9, true)]]]);
    const progress = new JobProgress(job, stored, 'at');
    progress.remember(row('2026-11-19', 10));
    progress.remember(row('2026-11-18', 9.5));
    progress.remember(row('2026-11-20', 11));
    expect(progress.rowsToPersist().map((r) => r.asOf)).toEqual(['2026-11-18', '2026-11-20']);
  });
});

describe('JobProgress.allFetched (what a deferral parks)', () => {
  it("keeps this invocation's rows only, not those taken back from parked blobs", () => {
    const progress = new JobProgress({ ...job, parked: ['0000000a.1'] }, new Map(), 'at');
    progress.remember(row('2026-11-20', 11));
    progress.rememberParked([row('2026-11-20', 10.5), row('2026-11-19', 10)]);
    expect(progress.allFetched().map((r) => [r.asOf, r.price])).toEqual([['2026-11-20', 11]]);
    expect([...progress.fetchedRows('NVDA')].map((r) => r.asOf)).toEqual([
      '2026-11-20',
      '2026-11-19',
    ]);
  });
});

describe('mergeRows', () => {
  it('lays fetched rows over the history oldest first, keeping computed rows with the same close', () => {
    const history = [row('2026-11-18', 9, true), row('2026-11-19', 10, true)];
    const merged = mergeRows(history, [row('2026-11-20', 11), row('2026-11-19', 10)]);
    expect(keepsStored(undefined, merged[2])).toBe(false);
    expect(merged.map((r) => [r.asOf, r.indicatorVersion])).toEqual([
      ['2026-11-18', 1],
      ['2026-11-19', 1],
      ['2026-11-20', undefined],
    ]);
  });

  it('drops rows before a rebuild date', () => {
    const merged = mergeRows([row('2026-11-18', 9, true)], [row('2026-11-19', 10)], '2026-11-19');
    expect(merged.map((r) => r.asOf)).toEqual(['2026-11-19']);
  });
});
