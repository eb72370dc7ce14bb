import { analysisKey, withClaim, type ClaimTarget } from '../../../lambdas/analysis/claim';
import type { AnalysisRow } from '../../../lambdas/analysis/types';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import { MODEL, NOW, fakeAnalysis } from './flow-fakes';

/** withClaim on its own: the claim protocol around a run, with the in-memory claim store. */

const target = (force = false): ClaimTarget => ({
  key: analysisKey({
    portfolioId: 'p1',
    model: MODEL,
    promptVersion: PROMPT_VERSION,
    dataAsOf: '2026-11-23',
  }),
  portfolioId: 'p1',
  dataAsOf: '2026-11-23',
  force,
});

const row = (timestamp: string): AnalysisRow => ({
  portfolio: 'p1',
  timestamp,
  portfolioName: 'ZSM Seven',
  model: `${MODEL}-0512`,
  requestedModel: MODEL,
  dataAsOf: '2026-11-23',
  prompt: 'p',
  promptVersion: PROMPT_VERSION,
  analysis: '{}',
  parsed_data: '[]',
  promptTokens: 1,
  completionTokens: 1,
  totalTokens: 2,
  xaiResponseId: 'r',
  xaiAttempts: 1,
  missingTickers: [],
  staleTickers: [],
  runId: 'run-1',
  forced: false,
});

describe('withClaim', () => {
  it('stores the run’s row and marks the claim done with its timestamp', async () => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    const result = await withClaim(target(), f.deps, async () => row('2026-11-24T06:00:00.000Z'));

    // Assess
    expect(result).toMatchObject({ status: 'ran', timestamp: '2026-11-24T06:00:00.000Z' });
    expect(f.rows).toHaveLength(1);
    expect(f.claims.get(target().key)).toMatchObject({
      status: 'done',
      analysisTimestamp: '2026-11-24T06:00:00.000Z',
    });
  });

  it('leases the claim until the invocation’s deadline plus the margin', async () => {
    // Prepare
    const f = fakeAnalysis();
    const leases: number[] = [];

    // Act
    await withClaim(target(), f.deps, async () => {
      leases.push(f.claims.get(target().key)?.leaseUntil ?? 0);
      return row('2026-11-24T06:00:00.000Z');
    });

    // Assess
    expect(leases).toEqual([NOW + 170_000 + 10_000]);
  });

  it('releases the claim and rethrows when the run fails, storing nothing', async () => {
    // Prepare
    const f = fakeAnalysis();
    const boom = new Error('xAI down');

    // Act
    const run = withClaim(target(), f.deps, async () => {
      throw boom;
    });

    // Assess
    await expect(run).rejects.toBe(boom);
    expect(f.claims.size).toBe(0);
    expect(f.rows).toHaveLength(0);
  });

  it('keeps the stored row when the claim cannot be marked done, and says so', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.deps.store.completeClaim = async () => {
      throw new Error('throttled');
    };

    // Act
    const result = await withClaim(target(), f.deps, async () => row('2026-11-24T06:00:00.000Z'));

    // Assess
    expect(result.status).toBe('ran');
    expect(f.rows).toHaveLength(1);
    expect(f.logs.find((l) => l.level === 'warn')).toMatchObject({
      message: 'Analysis stored but its claim could not be marked done',
      data: { portfolioId: 'p1', error: 'Error: throttled' },
    });
  });

  it('rethrows the run’s error even when the release fails, logging the release failure', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.deps.store.releaseClaim = async () => {
      throw new Error('release failed');
    };

    // Act
    const run = withClaim(target(), f.deps, async () => {
      throw new Error('invalid answer');
    });

    // Assess
    await expect(run).rejects.toThrow('invalid answer');
    expect(f.logs.find((l) => l.level === 'warn')?.message).toBe(
      'Analysis claim could not be released; it lapses with its lease',
    );
  });

  it('skips a done key without running, returning the stored analysis', async () => {
    // Prepare
    const f = fakeAnalysis();
    await withClaim(target(), f.deps, async () => row('2026-11-24T06:00:00.000Z'));
    const runs: string[] = [];

    // Act
    const result = await withClaim(target(), f.deps, async () => {
      runs.push('ran');
      return row('2026-11-24T06:01:00.000Z');
    });

    // Assess
    expect(runs).toEqual([]);
    expect(result).toMatchObject({
      status: 'skipped',
      reason: 'already-analysed',
      analysis: { timestamp: '2026-11-24T06:00:00.000Z' },
    });
    expect(f.counts.get('AnalysesSkipped')).toBe(1);
  });
});
