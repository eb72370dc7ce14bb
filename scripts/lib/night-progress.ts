import type { LogRecord } from './output-capture';

/** Running totals of the ticker refresh, from the handlers' log records. */
export interface RefreshTally {
  /** Tickers queued by processTickers (N of "refreshed n/N"). */
  readonly tickers: number;
  plannedCalls: number;
  polygonCalls: number;
  deferrals: number;
  /** Tickers whose session row exists (written now or already there). */
  refreshed: number;
  /** Tickers reported without data (the handlers name at most 50 per refresh). */
  noDataCount: number;
  /** The ones named. */
  noData: string[];
  positionsUpdated: number;
  errors: string[];
}

/** Running totals of the analyses, from the handlers' log records. */
export interface AnalysisTally {
  /** Analyses queued by analyzePortfolios (M of "analyses n/M"). */
  readonly queued: number;
  stored: number;
  alreadyAnalysed: number;
  skipped: number;
  failed: number;
  costUsd: number;
  errors: string[];
}

const numberOf = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const stringsOf = (v: unknown) =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
/** A count logged either as a number or as the list itself. */
const countOf = (v: unknown) => (Array.isArray(v) ? v.length : numberOf(v));
const errorText = (r: LogRecord) =>
  `${r.message}${typeof r.error === 'string' ? `: ${r.error}` : ''}`;

/** A fresh refresh tally for `tickers` queued tickers. */
export const newRefreshTally = (tickers: number): RefreshTally => ({
  tickers,
  plannedCalls: 0,
  polygonCalls: 0,
  deferrals: 0,
  refreshed: 0,
  noDataCount: 0,
  noData: [],
  positionsUpdated: 0,
  errors: [],
});

/** A fresh analysis tally for `queued` queued analyses. */
export const newAnalysisTally = (queued: number): AnalysisTally => ({
  queued,
  stored: 0,
  alreadyAnalysed: 0,
  skipped: 0,
  failed: 0,
  costUsd: 0,
  errors: [],
});

/**
 * Adds one processTicker invocation's log records to the tally and describes the invocation in
 * one line (calls made against the plan, a deferral and when it resumes, or the refresh result).
 */
export function tallyRefresh(tally: RefreshTally, records: readonly LogRecord[]): string {
  const notes: string[] = [];
  for (const r of records) {
    if (r.message === 'Refresh planned') {
      tally.plannedCalls += numberOf(r.calls);
      notes.push(`planned ${numberOf(r.calls)} Polygon call(s) (${String(r.strategy)})`);
    } else if (r.message === 'Refresh deferred') {
      tally.polygonCalls += numberOf(r.polygonCalls);
      tally.deferrals++;
      notes.push(
        `deferred (${String(r.reason)}), re-queued with a ${numberOf(r.delaySeconds)} s SQS delay, ${numberOf(r.remainingCalls)} call(s) left`,
      );
    } else if (r.message === 'Refresh done') {
      tally.polygonCalls += numberOf(r.polygonCalls);
      const refreshed = countOf(r.refreshed);
      const noDataCount = countOf(r.noData);
      const named = [...stringsOf(r.noData), ...stringsOf(r.noDataExamples)];
      tally.refreshed += refreshed + numberOf(r.alreadyFresh);
      tally.noDataCount += noDataCount;
      tally.noData.push(...named);
      const positions = (r.positions ?? {}) as Record<string, unknown>;
      tally.positionsUpdated += numberOf(positions.updated);
      notes.push(
        `done: ${refreshed} refreshed, ${numberOf(r.alreadyFresh)} already fresh` +
          `${noDataCount > 0 ? `, ${noDataCount} without data (${named.join(', ')}${named.length < noDataCount ? ', …' : ''})` : ''}` +
          `, ${numberOf(positions.updated)} position(s) repriced`,
      );
    } else if (r.level === 'ERROR') {
      tally.errors.push(errorText(r));
      notes.push(`ERROR ${errorText(r)}`);
    }
  }
  return (
    `tickers refreshed ${tally.refreshed}/${tally.tickers}` +
    (tally.noDataCount > 0 ? ` (+${tally.noDataCount} without data)` : '') +
    ` | Polygon calls ${tally.polygonCalls}/${tally.plannedCalls}` +
    (notes.length > 0 ? ` | ${notes.join('; ')}` : '')
  );
}

/**
 * Adds one analyzePortfolio invocation's log records to the tally and describes it in one line,
 * naming portfolios by `names` (id → name).
 */
export function tallyAnalysis(
  tally: AnalysisTally,
  records: readonly LogRecord[],
  names: ReadonlyMap<string, string>,
): string {
  const notes: string[] = [];
  const label = (r: LogRecord) => {
    const id = typeof r.portfolioId === 'string' ? r.portfolioId : '';
    return names.has(id) ? `"${names.get(id)}"` : id || 'a portfolio';
  };
  for (const r of records) {
    if (r.message === 'Analysis stored') {
      tally.stored++;
      tally.costUsd += numberOf(r.costUsd);
      notes.push(
        `${label(r)} stored (${numberOf(r.holdings)} holding(s)${typeof r.costUsd === 'number' ? `, $${r.costUsd.toFixed(4)}` : ''})`,
      );
    } else if (r.message === 'Analysis skipped: already analysed') {
      tally.alreadyAnalysed++;
      notes.push(`${label(r)} already analysed for this data (kept)`);
    } else if (r.message.startsWith('Analysis skipped')) {
      tally.skipped++;
      notes.push(`${label(r)} skipped: ${typeof r.error === 'string' ? r.error : r.message}`);
    } else if (r.level === 'ERROR') {
      tally.failed++;
      tally.errors.push(errorText(r));
      notes.push(`ERROR ${errorText(r)}`);
    }
  }
  return (
    `analyses ${tally.stored + tally.alreadyAnalysed}/${tally.queued}` +
    (notes.length > 0 ? ` | ${notes.join('; ')}` : '')
  );
}
