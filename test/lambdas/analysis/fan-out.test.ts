import { analyzePortfoliosFlow } from '../../../lambdas/analysis/fan-out';
import type { AnalyzePortfoliosDeps } from '../../../lambdas/analysis/ports';
import type { AnalysisMessage } from '../../../lambdas/analysis/types';

describe('analyzePortfoliosFlow', () => {
  function fanOutDeps(failedIndexes: number[] = []) {
    const sent: AnalysisMessage[][] = [];
    const counts = new Map<string, number>();
    const correlations: string[] = [];
    const deps: AnalyzePortfoliosDeps = {
      portfolios: {
        activePortfolios: async () => [{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }],
        hasPositions: async (id) => id !== 'p2',
      },
      queue: {
        sendAll: async (messages) => {
          sent.push([...messages]);
          const failed = failedIndexes.map((index) => ({ index, reason: 'InternalError: boom' }));
          return { sent: messages.length - failed.length, failed };
        },
      },
      obs: {
        count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
        log: () => undefined,
        correlate: (runId) => correlations.push(runId),
      },
      newRunId: () => 'run-7',
      concurrency: 2,
    };
    return { deps, sent, counts, correlations };
  }

  it('queues one message per active portfolio with positions and counts the skipped ones', async () => {
    // Prepare
    const { deps, sent, counts, correlations } = fanOutDeps();

    // Act
    const result = await analyzePortfoliosFlow({ kind: 'nightly' }, deps);
    expect(correlations).toEqual(['run-7']);

    // Assess
    expect(result).toEqual({ runId: 'run-7', found: 3, queued: 2, skipped: { noPositions: 1 } });
    expect(sent).toEqual([
      [
        { v: 1, portfolioId: 'p1', runId: 'run-7' },
        { v: 1, portfolioId: 'p3', runId: 'run-7' },
      ],
    ]);
    expect(counts.get('AnalysesQueued')).toBe(2);
  });

  it('fails the run saying how many messages could not be queued', async () => {
    // Prepare
    const { deps } = fanOutDeps([1]);

    // Act
    const run = analyzePortfoliosFlow({ kind: 'nightly' }, deps);

    // Assess
    await expect(run).rejects.toThrow(
      /1 of 2 analysis messages could not be queued.*InternalError: boom/,
    );
  });

  describe('pacing', () => {
    const SIX = Date.UTC(2026, 10, 17, 6, 0, 0);
    const limits = {
      requestsPerMinute: 1_800,
      tokensPerMinute: 10_000_000,
      tokensPerAnalysis: 8_000,
      secondsPerAnalysis: 15,
      deadlineUtc: '13:30',
      maxConcurrency: 100,
    };

    function paced(setMaximumConcurrency: (c: number) => Promise<void>, count = 10_000) {
      const base = fanOutDeps();
      const logs: [string, string, Record<string, unknown> | undefined][] = [];
      const ids = Array.from({ length: count }, (_, i) => ({ id: `p${i}` }));
      const deps = {
        ...base.deps,
        portfolios: { activePortfolios: async () => ids, hasPositions: async () => true },
        obs: {
          ...base.deps.obs,
          log: (l: string, m: string, d?: Record<string, unknown>) => logs.push([l, m, d]),
        },
        pacing: { limits, now: () => SIX, scaler: { setMaximumConcurrency } },
      };
      return { ...base, deps, logs };
    }

    it('sets the concurrency derived from the portfolios queued before queuing them', async () => {
      // Prepare
      const order: string[] = [];
      const set: number[] = [];
      const { deps } = paced(async (c) => {
        set.push(c);
        order.push('scale');
      });
      const send = deps.queue.sendAll;
      deps.queue = { sendAll: async (m) => (order.push('send'), send(m)) };

      // Act
      const result = await analyzePortfoliosFlow({ kind: 'nightly' }, deps);

      // Assess: 10,000 portfolios, 4 per slot a minute, 360 planned minutes → 7
      expect(set).toEqual([7]);
      expect(order[0]).toBe('scale');
      expect(result).toMatchObject({ queued: 10_000, concurrency: 7 });
      expect(Date.parse(result.expectedFinish!)).toBeLessThan(Date.UTC(2026, 10, 17, 13, 30));
    });

    it('queues the night at the current concurrency when the update fails, saying so', async () => {
      // Prepare
      const { deps, logs, counts } = paced(async () => {
        throw new Error('AccessDenied');
      });

      // Act
      const result = await analyzePortfoliosFlow({ kind: 'nightly' }, deps);

      // Assess
      expect(result.queued).toBe(10_000);
      expect(counts.get('ConcurrencyUpdateFailures')).toBe(1);
      expect(logs.find(([level]) => level === 'error')?.[2]).toMatchObject({
        concurrency: 7,
        error: expect.stringContaining('AccessDenied'),
      });
    });

    it('warns when even the xAI limits cannot finish the night before the deadline', async () => {
      // Prepare
      const { deps, logs } = paced(async () => undefined, 600_000);

      // Act
      await analyzePortfoliosFlow({ kind: 'nightly' }, deps);

      // Assess
      expect(logs.find(([level]) => level === 'warn')?.[2]).toMatchObject({
        concurrency: 100,
        boundBy: 'ceiling',
      });
    });
  });
});
