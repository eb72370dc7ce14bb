import { continuable } from '../domain/close-window';
import { latestCompletedSession, previousTradingDay } from '../domain/market-calendar';
import { ownRows, type TickerDataRow } from '../domain/ticker-rows';
import { sessionCloseIso } from '../../platform/ny-time';
import type { TickerHistory } from '../ports';
import { readHistory } from './history';
import type { RefreshJob } from './job';

/** Each ticker's stored rows, oldest first, and which of them are only the previous session's on. */
export interface StoredRows {
  readonly stored: Map<string, TickerDataRow[]>;
  readonly continued: ReadonlySet<string>;
}

/**
 * Phase 1 of a new job for the latest completed session: each ticker's row of the previous
 * session and of the session itself, for all tickers at once (BatchGetItem, 100 keys a request),
 * instead of one history Query per ticker. A ticker whose previous row carries everything the
 * next session needs (../domain/close-window.ts) is continued from that row alone: the plan, the
 * splits lookup and the indicators come out as from its full history. The others (new, a gap,
 * rows written before the window existed, a re-based row) get their history read as before
 * (./history.ts). A resumed or older-session job, or a port without `rowsAt`, reads histories.
 * `continued` names the tickers continued from their previous row: their rows before it are
 * stored and complete, so fetched bars of those sessions are dropped (./deferral.ts), never laid
 * over the short series as raw rows.
 */
export async function readStoredRows(
  job: Pick<RefreshJob, 'session' | 'tickers' | 'plan'>,
  deps: {
    readonly history: TickerHistory;
    readonly concurrency: number;
    readonly now: () => number;
  },
): Promise<StoredRows> {
  const { history, concurrency } = deps;
  const continued = new Set<string>();
  // For an older session, rows of later sessions may exist; only the history shows them.
  if (!history.rowsAt || job.plan || job.session !== latestCompletedSession(deps.now()))
    return { stored: await readHistory(job.tickers, history, concurrency), continued };
  const prev = previousTradingDay(job.session);
  const keys = job.tickers.flatMap((ticker) =>
    [prev, job.session].map((s) => ({ ticker, timestamp: sessionCloseIso(s) })),
  );
  const items = new Map<string, Record<string, unknown>[]>();
  for (const item of await history.rowsAt(keys))
    if (typeof item.ticker === 'string')
      items.set(item.ticker, [...(items.get(item.ticker) ?? []), item]);
  const stored = new Map<string, TickerDataRow[]>();
  const rest: string[] = [];
  for (const t of job.tickers) {
    const rows = ownRows(items.get(t) ?? []).filter((r) => r.ticker === t);
    if (rows[0]?.asOf === prev && continuable(rows[0])) {
      stored.set(t, rows);
      continued.add(t);
    } else rest.push(t);
  }
  for (const [t, rows] of await readHistory(rest, history, concurrency)) stored.set(t, rows);
  return { stored, continued };
}
