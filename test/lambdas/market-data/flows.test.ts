import {
  processTickerFlow,
  processTickersFlow,
  type ProcessTickerDeps,
  type ProcessTickersDeps,
} from '../../../lambdas/market-data/flows';
import type { RefreshJobDeps } from '../../../lambdas/market-data/refresh-job';
import { parseProcessTickerEvent } from '../../../lambdas/platform/events';
import { createSqsEvent } from '../../helpers/events';

const NOW = Date.parse('2026-11-24T04:30:00Z'); // Tuesday: latest completed session is Monday 2026-11-23

function fanOut(failed: { index: number; reason: string }[] = []) {
  const correlations: string[] = [];
  const sent: unknown[][] = [];
  const counts = new Map<string, number>();
  const deps: ProcessTickersDeps = {
    holdings: {
      activePositions: async () => [
        {
          positions: [
            { ticker: 'NVDA', portfolioId: 'p1', id: 'a' },
            { ticker: ' nvda', portfolioId: 'p2', id: 'b' },
          ],
        },
        { positions: [{ ticker: 'bad ticker', portfolioId: 'p2', id: 'c' }] },
      ],
    },
    queue: {
      sendAll: async (jobs) => {
        sent.push(jobs);
        return { sent: jobs.length - failed.length, failed };
      },
    },
    now: () => NOW,
    newRunId: () => 'run-1',
    obs: {
      count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
      log: () => undefined,
      correlate: (id) => correlations.push(id),
    },
  };
  return { deps, correlations, sent, counts };
}

describe('processTickersFlow', () => {
  it('queues one job for the latest session, tags the logs with the run id and reports invalid symbols', async () => {
    const f = fanOut();
    const result = await processTickersFlow({ kind: 'nightly' }, f.deps);
    expect(result).toMatchObject({
      runId: 'run-1',
      session: '2026-11-23',
      tickersFound: 1,
      jobsQueued: 1,
      duplicatesMerged: 1,
    });
    expect(result.invalid).toEqual({
      count: 1,
      examples: [
        expect.objectContaining({ raw: 'bad ticker', portfolioId: 'p2', positionId: 'c' }),
      ],
    });
    expect(result.positionsScanned).toBe(3);
    expect(f.sent[0]).toEqual([
      expect.objectContaining({ runId: 'run-1', session: '2026-11-23', tickers: ['NVDA'] }),
    ]);
    expect(f.correlations).toEqual(['run-1']);
  });

  it('fails the run, naming the lost tickers, when a job cannot be queued', async () => {
    const f = fanOut([{ index: 0, reason: 'InternalError: boom' }]);
    await expect(processTickersFlow({ kind: 'nightly' }, f.deps)).rejects.toThrow(
      '1 of 1 refresh jobs (1 tickers) could not be queued: InternalError: boom',
    );
    expect(f.counts.get('TickersQueued')).toBeUndefined();
  });
});

describe('processTickerFlow', () => {
  it('acknowledges and counts malformed records without running anything', async () => {
    const counts = new Map<string, number>();
    const logs: { message: string; data?: Record<string, unknown> }[] = [];
    const mustNotRun = () => {
      throw new Error('must not run');
    };
    const result = await processTickerFlow(
      parseProcessTickerEvent(createSqsEvent(['{not json', { v: 2 }])),
      {
        job: new Proxy({} as RefreshJobDeps, { get: mustNotRun }),
        marker: { record: mustNotRun },
        newRunId: () => 'x',
        obs: {
          count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
          log: (_level, message, data) => logs.push({ message, data }),
          correlate: () => undefined,
        },
      },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(counts.get('MalformedMessages')).toBe(2);
    expect(logs.map((l) => l.message)).toEqual([
      'Malformed ticker-processing message acknowledged without processing',
      'Malformed ticker-processing message acknowledged without processing',
    ]);
    expect(logs[0].data).toMatchObject({ bytes: 9, problem: 'body is not JSON' });
    expect(logs[1].data?.problem).toEqual(expect.arrayContaining([expect.stringMatching(/^v: /)]));
  });

  it('reports a job that fails as a batch item failure, counted and logged with its run id', async () => {
    // Prepare: the second record's job cannot read its history.
    const counts = new Map<string, number>();
    const correlations: string[] = [];
    const errors: Record<string, unknown>[] = [];
    const job = (runId: string) => ({
      v: 1,
      kind: 'refresh',
      runId,
      session: '2026-11-23',
      tickers: ['NVDA'],
    });
    const deps = {
      job: {
        bars: { groupedDaily: async () => [], dailyRange: async () => [] },
        history: {
          latestRows: async () => {
            throw new Error('AccessDeniedException');
          },
          putRows: async () => undefined,
        },
        positions: { reprice: async () => ({ updated: 0, deleted: 0, moved: 0, conflicts: 0 }) },
        deferrals: { send: async () => undefined },
        runtime: { now: () => NOW, remainingMs: () => 900_000, log: () => undefined },
      },
      marker: { record: async () => undefined },
      newRunId: () => 'x',
      obs: {
        count: (m: string, v: number) => counts.set(m, (counts.get(m) ?? 0) + v),
        log: (level: string, _message: string, data?: Record<string, unknown>) => {
          if (level === 'error' && data) errors.push(data);
        },
        correlate: (id: string) => correlations.push(id),
      },
    } satisfies ProcessTickerDeps;

    // Act
    const result = await processTickerFlow(
      parseProcessTickerEvent(createSqsEvent([job('run-a'), job('run-b')])),
      deps,
    );

    // Assess
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }],
    });
    expect(counts.get('RefreshFailures')).toBe(2);
    expect(correlations).toEqual(['run-a', 'run-b']);
    expect(errors[1]).toEqual({
      messageId: 'msg-2',
      session: '2026-11-23',
      tickers: 1,
      error: 'Error: AccessDeniedException',
    });
  });
});
