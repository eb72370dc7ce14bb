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
});
