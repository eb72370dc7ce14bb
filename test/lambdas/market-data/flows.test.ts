import {
  processTickerFlow,
  processTickersFlow,
  type ProcessTickersDeps,
} from '../../../lambdas/market-data/flows';
import { parseProcessTickerEvent } from '../../../lambdas/handlers/events';
import { createSqsEvent } from '../../helpers/events';

const NOW = Date.parse('2026-11-24T04:30:00Z'); // Tuesday: latest completed session is Monday 2026-11-23

function fanOut(failed: { index: number; reason: string }[] = []) {
  const correlations: string[] = [];
  const sent: unknown[][] = [];
  const counts = new Map<string, number>();
  const deps: ProcessTickersDeps = {
    heldTickers: async () => [
      { raw: 'NVDA', portfolioId: 'p1', positionId: 'a' },
      { raw: ' nvda', portfolioId: 'p2', positionId: 'b' },
      { raw: 'bad ticker', portfolioId: 'p2', positionId: 'c' },
    ],
    sendJobs: async (jobs) => {
      sent.push(jobs);
      return { sent: jobs.length - failed.length, failed };
    },
    now: () => NOW,
    newRunId: () => 'run-1',
    count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
    log: () => undefined,
    correlate: (id) => correlations.push(id),
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
    expect(result.invalid.count).toBe(1);
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
    const result = await processTickerFlow(
      parseProcessTickerEvent(createSqsEvent(['{not json', { v: 2 }])),
      {
        jobDeps: () => {
          throw new Error('must not run');
        },
        now: () => NOW,
        newRunId: () => 'x',
        recordRefreshed: async () => undefined,
        count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
        log: () => undefined,
        correlate: () => undefined,
      },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(counts.get('MalformedMessages')).toBe(2);
  });
});
