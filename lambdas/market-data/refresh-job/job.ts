import * as z from 'zod';
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

const polygonCall = z.union([
  z.object({ kind: z.literal('grouped'), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }).strict(),
  z
    .object({ kind: z.literal('range'), ticker: z.string(), from: z.string(), to: z.string() })
    .strict(),
]);

/** The body of a `ticker-processing-queue` message: one refresh job. */
export const refreshJobSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('refresh'),
    runId: z.string().min(1).max(100),
    session: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    tickers: z
      .array(z.string().regex(/^[A-Z][A-Z0-9.-]{0,9}$/))
      .min(1)
      .max(MAX_TICKERS_PER_JOB),
    /** Decided on the first attempt and kept, so retries follow it instead of re-planning. */
    plan: z
      .object({ strategy: z.enum(['none', 'grouped', 'range']), calls: z.array(polygonCall) })
      .optional(),
    /**
     * Tickers whose history is rebuilt from `since` (they were new or too far behind), as
     * indexes into `tickers`: at 10,000 new 10-character symbols a ticker→date map would push a
     * deferred job over SQS's 256 KiB, indexes keep it near 190 KiB.
     */
    rebuild: z
      .object({
        since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        indexes: z.array(
          z
            .number()
            .int()
            .min(0)
            .max(MAX_TICKERS_PER_JOB - 1),
        ),
      })
      .strict()
      .optional(),
    done: z.array(z.string()).default([]),
    /**
     * The rows earlier invocations fetched, parked in the state table (ids, oldest first;
     * ../adapters/parked-rows.ts). Absent on a job that writes them to `ticker-data` raw instead
     * (one queued before parking existed, or run without the store).
     */
    parked: z
      .array(z.string().regex(/^[0-9a-f]{8}\.[1-9][0-9]{0,2}$/))
      .max(MAX_DEFERRALS)
      .optional(),
    deferrals: z.number().int().min(0).max(MAX_DEFERRALS).default(0),
  })
  .strict()
  // Beyond the shape: a real trading-day session and a plan the planner could have made (./bounds.ts).
  .superRefine((job, ctx) => {
    for (const message of jobBoundsProblems(job)) ctx.addIssue({ code: 'custom', message });
  });

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
