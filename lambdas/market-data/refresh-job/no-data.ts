import { errorText } from '../../platform/text';
import type { JobRuntime, NoDataMemo } from '../ports';

/**
 * The no-data memo around the job: read when planning, written when the job is done. Both only
 * save calls, so a memo that fails is logged and the job goes on as if there were none.
 */
interface MemoDeps {
  readonly noData?: NoDataMemo;
  readonly runtime: Pick<JobRuntime, 'log'>;
}

/** Which of `lacking` an earlier run of `session` found without data. */
export async function knownNoData(
  lacking: readonly string[],
  session: string,
  deps: MemoDeps,
): Promise<ReadonlySet<string>> {
  if (!deps.noData || lacking.length === 0) return new Set<string>();
  try {
    return await deps.noData.known(lacking, session);
  } catch (err) {
    // The memo only saves calls: without it the job plans every ticker, as it did before.
    deps.runtime.log('warn', 'No-data memo unreadable; planning every ticker', {
      error: errorText(err),
    });
    return new Set<string>();
  }
}

/**
 * Memoises the symbols without data, but only once the session is known to be published (some
 * ticker has a bar for it, `published`): a range answer cut short before an unpublished session
 * must not make the re-run skip a symbol that does trade.
 */
export async function recordNoData(
  newlyNoData: readonly string[],
  session: string,
  published: boolean,
  deps: MemoDeps,
): Promise<void> {
  if (!deps.noData || newlyNoData.length === 0 || !published) return;
  try {
    await deps.noData.record(newlyNoData, session);
  } catch (err) {
    deps.runtime.log(
      'warn',
      'No-data memo not written; a re-run will look these tickers up again',
      {
        count: newlyNoData.length,
        error: errorText(err),
      },
    );
  }
}
