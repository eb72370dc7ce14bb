import * as z from '../../platform/zod';
import type { RefreshPlan } from '../domain/refresh-plan';
import { jobBoundsProblems } from './bounds';

/** The refresh job's message, its outcome and its error types (no behaviour). */

/**
 * Most tickers one job message carries: 10,000. At 10 characters each (the longest a ticker may
 * be) a new job is 130,130 bytes and the largest deferred one (every ticker rebuilt, its grouped
 * backfill done but for one call) 185,748 bytes, within SQS's 262,144 (MAX_MESSAGE_BYTES): see
 * test/faults/limits.faults.test.ts, case I01. More tickers are split into more jobs.
 */
export const MAX_TICKERS_PER_JOB = 10_000;
/** Deferrals after which a job fails instead (≈ 12 h of 900-s waits): it goes to the DLQ, loudly. */
export const MAX_DEFERRALS = 48;
/** Rows of history read per ticker: MA50 needs 49 before the new one, with room for old rows. */
export const HISTORY_ROWS = 80;
/** Rows read per ticker whose history was (re)built in this job. */
export const REBUILT_HISTORY_ROWS = 400;

const isoDate = () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));

const polygonCall = z.union([
  z.strictObject({ kind: z.literal('grouped'), date: isoDate() }),
  z.strictObject({
    kind: z.literal('range'),
    ticker: z.string(),
    from: z.string(),
    to: z.string(),
  }),
]);

/** The body of a `ticker-processing-queue` message: one refresh job. */
export const refreshJobSchema = z
  .strictObject({
    v: z.literal(1),
    kind: z.literal('refresh'),
    runId: z.string().check(z.minLength(1), z.maxLength(100)),
    session: isoDate(),
    tickers: z
      .array(z.string().check(z.regex(/^[A-Z][A-Z0-9.-]{0,9}$/)))
      .check(z.minLength(1), z.maxLength(MAX_TICKERS_PER_JOB)),
    /** Decided on the first attempt and kept, so retries follow it instead of re-planning. */
    plan: z.optional(
      z.object({ strategy: z.enum(['none', 'grouped', 'range']), calls: z.array(polygonCall) }),
    ),
    /**
     * Tickers whose history is rebuilt from `since` (they were new or too far behind), as
     * indexes into `tickers`: at 10,000 new 10-character symbols a ticker→date map would push a
     * deferred job over SQS's 256 KiB, indexes keep it near 190 KiB.
     */
    rebuild: z.optional(
      z.strictObject({
        since: isoDate(),
        indexes: z.array(z.int().check(z.minimum(0), z.maximum(MAX_TICKERS_PER_JOB - 1))),
      }),
    ),
    done: z._default(z.array(z.string()), []),
    /**
     * The rows earlier invocations fetched, parked in the state table (ids, oldest first;
     * ../adapters/parked-rows.ts). Absent on a job that writes them to `ticker-data` raw instead
     * (one queued before parking existed, or run without the store).
     */
    parked: z.optional(
      z
        .array(z.string().check(z.regex(/^[0-9a-f]{8}\.[1-9][0-9]{0,2}$/)))
        .check(z.maxLength(MAX_DEFERRALS)),
    ),
    deferrals: z._default(z.int().check(z.minimum(0), z.maximum(MAX_DEFERRALS)), 0),
  })
  // Beyond the shape: a real trading-day session and a plan the planner could have made (./bounds.ts).
  .check(
    z.superRefine((job, ctx) => {
      for (const message of jobBoundsProblems(job)) ctx.addIssue({ code: 'custom', message });
    }),
  );

export type RefreshJob = z.infer<typeof refreshJobSchema>;

/**
 * Why the job paused: it is re-enqueued with a delay and resumes where it stopped ('time' also
 * when its rows take more than one invocation to write). 'superseded': a duplicate message of the
 * job is finishing it in another invocation, so this one stopped and re-enqueued nothing.
 */
export type DeferReason =
  'budget' | 'rate-limited' | 'not-published' | 'upstream-error' | 'time' | 'superseded';

export interface RepriceSummary {
  readonly updated: number;
  readonly deleted: number;
  readonly moved: number;
  readonly conflicts: number;
}

export type RefreshOutcome =
  | {
      readonly status: 'done';
      readonly session: string;
      readonly strategy: RefreshPlan['strategy'];
      readonly refreshed: string[];
      readonly alreadyFresh: number;
      readonly noData: string[];
      readonly polygonCalls: number;
      readonly rowsWritten: number;
      /** Stock splits whose stored history this job re-based. */
      readonly splitsApplied: number;
      readonly positions: RepriceSummary;
    }
  | {
      readonly status: 'deferred';
      readonly reason: DeferReason;
      readonly delaySeconds: number;
      readonly polygonCalls: number;
      readonly remainingCalls: number;
    };

/** Thrown for a job that cannot succeed by waiting (bad key, bad request, too many deferrals). */
export class RefreshFailedError extends Error {
  override readonly name = 'RefreshFailedError';
}
