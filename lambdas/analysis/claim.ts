import { stateKeys } from '../platform/state-keys';
import { errorText } from '../platform/text';
import { summarizeRow } from './analysis-row';
import { PROMPT_VERSION } from './domain/prompt';
import { AnalysisFailedError } from './failures';
import type { AnalysisObservability, AnalysisRuntime, AnalysisStore } from './ports';
import type { AnalysisRow, PortfolioAnalysisOutcome } from './types';

/**
 * The idempotency protocol around one analysis, as a wrapper (the shape of Powertools'
 * `makeIdempotent`): `withClaim` claims the key, runs the analysis, stores its row and marks the
 * claim done, or releases the claim when anything fails. Not Powertools Idempotency itself: its
 * record has no "take over a lapsed claim whose attempt stored its row" step, no forced re-run
 * of a done key, and a different item layout than the claims already in the state table.
 */

/** Newest rows searched for one an abandoned attempt stored before it died. */
export const STORED_ROW_LOOKBACK = 10;
/** Added to the invocation's deadline before a claim counts as abandoned, ms. */
export const CLAIM_LEASE_MARGIN_MS = 10_000;

/** The claim key: one analysis per portfolio, model, prompt version and data session. */
export function analysisKey(parts: {
  portfolioId: string;
  model: string;
  promptVersion: string;
  dataAsOf: string;
}): string {
  return stateKeys.analysisClaim(parts);
}

/** What is claimed. */
export interface ClaimTarget {
  readonly key: string;
  readonly portfolioId: string;
  readonly dataAsOf: string;
  /** Re-run an analysis that is already done. */
  readonly force: boolean;
}

/** What `withClaim` needs. */
export interface ClaimDeps {
  readonly store: AnalysisStore;
  readonly runtime: AnalysisRuntime;
  readonly obs: AnalysisObservability;
}

/** `run`'s row stored under `timestamp`, or the analysis already there. */
export type ClaimedRun =
  | { readonly status: 'ran'; readonly row: AnalysisRow; readonly timestamp: string }
  | Extract<PortfolioAnalysisOutcome, { status: 'skipped' }>;

/**
 * Claims `target.key` and runs `run` under it. A done key is skipped (the stored analysis is
 * returned), a live claim of another attempt fails with `in-progress` (a queue record is then
 * retried after the lease, never acknowledged: if the holder fails, the analysis still happens),
 * and a lapsed claim is taken over: first looking for the row its attempt may have stored before
 * it died.
 */
export async function withClaim(
  target: ClaimTarget,
  deps: ClaimDeps,
  run: () => Promise<AnalysisRow>,
): Promise<ClaimedRun> {
  const { store, runtime } = deps;
  const owner = runtime.newId();
  const now = runtime.now();
  const claim = await store.claim(target.key, {
    owner,
    portfolioId: target.portfolioId,
    now,
    leaseUntil: now + runtime.remainingMs() + CLAIM_LEASE_MARGIN_MS,
    force: target.force,
  });
  if (claim.status === 'done') return skipDone(target, claim.analysisTimestamp, deps);
  if (claim.status === 'in-progress') {
    throw new AnalysisFailedError(
      'in-progress',
      `Another invocation is analysing portfolio ${target.portfolioId} for ${target.dataAsOf} (claimed ${claim.claimedAt ?? 'recently'}` +
        `${claim.leaseUntil ? `, lease until ${new Date(claim.leaseUntil).toISOString()}` : ''}); not analysed twice`,
      target.portfolioId,
    );
  }
  if (claim.tookOver) {
    deps.obs.log('warn', `Analysis claim taken over (${claim.tookOver})`, {
      portfolioId: target.portfolioId,
      key: target.key,
    });
  }
  if (claim.tookOver === 'stale') {
    const recovered = await recoverStoredRow(target, owner, deps);
    if (recovered) return recovered;
  }
  return runClaimed(target, owner, deps, run);
}

/** The key is done: the stored analysis, as skipped. */
async function skipDone(
  target: ClaimTarget,
  analysisTimestamp: string | undefined,
  deps: ClaimDeps,
): Promise<ClaimedRun> {
  const id = target.portfolioId;
  deps.obs.count('AnalysesSkipped', 1);
  const stored = analysisTimestamp
    ? await deps.store.getAnalysis(id, analysisTimestamp)
    : undefined;
  const message = alreadyAnalysed(id, target.dataAsOf, deps.runtime.model, analysisTimestamp);
  deps.obs.log('info', 'Analysis skipped: already analysed', {
    portfolioId: id,
    key: target.key,
    analysisTimestamp,
  });
  return {
    status: 'skipped',
    reason: 'already-analysed',
    message,
    analysis: stored ? summarizeRow(stored) : undefined,
  };
}

/**
 * The attempt that held the claim may have died (Lambda timeout) after storing its row and
 * before marking the claim done: that row is the analysis, not paid for or stored twice.
 */
async function recoverStoredRow(
  target: ClaimTarget,
  owner: string,
  deps: ClaimDeps,
): Promise<ClaimedRun | undefined> {
  const { store, runtime } = deps;
  const stored = (await store.latestAnalyses(target.portfolioId, STORED_ROW_LOOKBACK)).find(
    (r) =>
      r.dataAsOf === target.dataAsOf &&
      r.requestedModel === runtime.model &&
      r.promptVersion === PROMPT_VERSION,
  );
  if (!stored) return undefined;
  const analysisTimestamp = String(stored.timestamp);
  await store.completeClaim(target.key, owner, { analysisTimestamp, now: runtime.now() });
  deps.obs.count('AnalysesSkipped', 1);
  deps.obs.log('warn', 'Analysis found stored by an attempt that did not finish; claim completed', {
    portfolioId: target.portfolioId,
    key: target.key,
    analysisTimestamp,
  });
  return {
    status: 'skipped',
    reason: 'already-analysed',
    message: alreadyAnalysed(target.portfolioId, target.dataAsOf, runtime.model, analysisTimestamp),
    analysis: summarizeRow(stored),
  };
}

/** Runs and stores under the owner's claim; marks it done, or releases it when anything fails. */
async function runClaimed(
  target: ClaimTarget,
  owner: string,
  deps: ClaimDeps,
  run: () => Promise<AnalysisRow>,
): Promise<ClaimedRun> {
  const { store, runtime, obs } = deps;
  const context = { portfolioId: target.portfolioId, key: target.key };
  try {
    const row = await run();
    const timestamp = await store.putAnalysis(row);
    try {
      await store.completeClaim(target.key, owner, {
        analysisTimestamp: timestamp,
        now: runtime.now(),
      });
    } catch (err) {
      obs.log('warn', 'Analysis stored but its claim could not be marked done', {
        ...context,
        error: errorText(err),
      });
    }
    return { status: 'ran', row, timestamp };
  } catch (err) {
    try {
      await store.releaseClaim(target.key, owner);
    } catch (releaseErr) {
      obs.log('warn', 'Analysis claim could not be released; it lapses with its lease', {
        ...context,
        error: errorText(releaseErr),
      });
    }
    throw err;
  }
}

/** What a skipped (already analysed) request says. */
function alreadyAnalysed(id: string, dataAsOf: string, model: string, row?: string): string {
  return (
    `Portfolio ${id} is already analysed for ${dataAsOf} with ${model} prompt ${PROMPT_VERSION}` +
    `${row ? ` (row ${row})` : ''}; pass "force": true to re-run`
  );
}
