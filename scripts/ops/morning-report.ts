/**
 * The morning report of one night (`npm run report`), for any stage: built from the
 * {@link NightReport} (the tables, read the same way as the local run's summary), the night's
 * counters (the local run's record, or the deployed stage's CloudWatch metrics) and the queues.
 * Whether the night is complete is `findProblems` of scripts/lib/night-report.ts: the one
 * implementation of the night checks, shared with `npm start`.
 */
import { findProblems, type NightReport } from '../lib/night-report';

/** Counts of the night that the tables do not hold (undefined: not known on this stage). */
export interface NightCounters {
  readonly polygonCalls?: number;
  /** The most Polygon calls in any minute (local: in any budget window of the simulator's clock). */
  readonly polygonMaxPerMinute?: number;
  readonly splitsApplied?: number;
  readonly positionsRepriced?: number;
  readonly positionsSkipped?: number;
  readonly invalidPositions?: number;
  readonly analysesStored?: number;
  readonly analysesAlreadyDone?: number;
}

/** One work queue and its DLQ. */
export interface QueueState {
  readonly name: string;
  readonly waiting: number;
  readonly deadLetters: number;
  /** Age of the oldest message in the queue, seconds (deployed stages: CloudWatch). */
  readonly oldestAgeSeconds?: number;
}

/** What the report shows and `--json` writes. */
export interface MorningReport {
  readonly stage: string;
  readonly session: string;
  /** Every active ticker fresh or reported without data, every analysis done, queues empty. */
  readonly complete: boolean;
  readonly problems: string[];
  readonly tickers: {
    readonly held: number;
    readonly fresh: number;
    readonly stale: string[];
    readonly withoutData: string[];
    readonly invalidSymbols: number;
    readonly splitsApplied?: number;
  };
  readonly positions: {
    readonly repriced?: number;
    readonly skipped?: number;
    readonly invalid?: number;
  };
  readonly analyses: {
    readonly expected: number;
    readonly analysed: number;
    readonly stored?: number;
    readonly alreadyDone?: number;
    readonly failed: { readonly id: string; readonly name: string }[];
    readonly costUsd: number;
    readonly tokens: number;
  };
  /**
   * The newest aggregate of the stage's model and the current prompt version from
   * `analysis-track-record-{stage}` (null: none yet; undefined: not read).
   */
  readonly trackRecord?: Record<string, unknown> | null;
  readonly queues: QueueState[];
  /** Alarms in ALARM state (undefined: the stage has no alarms, i.e. local). */
  readonly alarms?: string[];
  readonly polygon: { readonly calls?: number; readonly maxPerMinute?: number };
  /** Local nights: whether Polygon and xAI were the simulators or the real services. */
  readonly upstreams?: {
    readonly polygon: 'simulated' | 'real';
    readonly xai: 'simulated' | 'real';
  };
}

/** Assembles the morning report; `complete` follows the shared night checks. */
export function buildMorningReport(input: {
  readonly stage: string;
  readonly night: NightReport;
  readonly counters: NightCounters;
  readonly queues: QueueState[];
  readonly alarms?: string[];
  readonly upstreams?: MorningReport['upstreams'];
  readonly trackRecord?: Record<string, unknown> | null;
}): MorningReport {
  const { night, counters } = input;
  const problems = findProblems(night);
  for (const a of input.alarms ?? []) problems.push(`alarm ${a} is in ALARM state`);
  const expected = night.portfolios.filter((p) => p.expectsAnalysis);
  const ofSession = expected.filter(
    (p) => p.analysis?.dataAsOf === night.session && p.analysis.scores.length > 0,
  );
  const analysed = new Set(ofSession.map((p) => p.id));
  return {
    stage: input.stage,
    session: night.session,
    complete: problems.length === 0,
    problems,
    tickers: {
      held: night.tickers.length,
      fresh: night.tickers.filter((t) => t.status === 'fresh').length,
      stale: night.tickers.filter((t) => t.status === 'not-refreshed').map((t) => t.ticker),
      withoutData: night.tickers.filter((t) => t.status === 'no-data').map((t) => t.ticker),
      invalidSymbols: night.invalidTickers.length,
      splitsApplied: counters.splitsApplied,
    },
    positions: {
      repriced: counters.positionsRepriced,
      skipped: counters.positionsSkipped,
      invalid: counters.invalidPositions,
    },
    analyses: {
      expected: expected.length,
      analysed: analysed.size,
      stored: counters.analysesStored,
      alreadyDone: counters.analysesAlreadyDone,
      failed: expected.filter((p) => !analysed.has(p.id)).map((p) => ({ id: p.id, name: p.name })),
      costUsd: ofSession.reduce((s, p) => s + (p.analysis?.costUsd ?? 0), 0),
      tokens: ofSession.reduce((s, p) => s + (p.analysis?.totalTokens ?? 0), 0),
    },
    queues: input.queues,
    alarms: input.alarms,
    polygon: { calls: counters.polygonCalls, maxPerMinute: counters.polygonMaxPerMinute },
    upstreams: input.upstreams,
    trackRecord: input.trackRecord,
  };
}

const known = (v: number | undefined) => (v === undefined ? 'n/a' : String(v));
const named = (items: readonly string[], max = 20) =>
  items.length === 0
    ? ''
    : `: ${items.slice(0, max).join(', ')}${items.length > max ? `, … (${items.length - max} more)` : ''}`;
const age = (s: number | undefined) =>
  s === undefined ? '' : s < 120 ? `, oldest ${s} s` : `, oldest ${Math.round(s / 60)} min`;

/** The track-record line: hit rate and mean IC with its interval over the trailing window. */
function trackRecordLines(t: MorningReport['trackRecord']): string[] {
  if (t === undefined) return [];
  if (t === null)
    return ['  Track rec.  none yet (analyses are evaluated 5 sessions after their data)'];
  const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : 'n/a');
  const dec = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : 'n/a');
  return [
    `  Track rec.  ${String(t.modelPrompt)} as of ${String(t.asOf)}: ${String(t.analyses)} analyses, ${String(t.scores)} scores, hit rate ${pct(t.hitRate)}, mean IC ${dec(t.meanIc)} [${dec(t.icLow)}, ${dec(t.icHigh)}]`,
  ];
}

/** The report as text, one fact per line, the verdict first. */
export function formatMorningReport(r: MorningReport): string[] {
  const t = r.tickers;
  const a = r.analyses;
  const mode = (m: string) => (m === 'simulated' ? 'SIMULATED' : 'REAL');
  const out = [
    `Night of session ${r.session} on stage ${r.stage}: ${r.complete ? 'COMPLETE' : 'NOT COMPLETE'}`,
    ...(r.upstreams
      ? [`  Upstreams   Polygon ${mode(r.upstreams.polygon)}, xAI ${mode(r.upstreams.xai)}`]
      : []),
    `  Tickers     fresh ${t.fresh}/${t.held}; stale ${t.stale.length}${named(t.stale)}; without data ${t.withoutData.length}${named(t.withoutData)}; invalid symbols ${t.invalidSymbols}; splits applied ${known(t.splitsApplied)}`,
    `  Positions   repriced ${known(r.positions.repriced)}, skipped ${known(r.positions.skipped)}, invalid ${known(r.positions.invalid)}`,
    `  Analyses    ${a.analysed}/${a.expected} of this session (stored ${known(a.stored)}, already done ${known(a.alreadyDone)}); failed ${a.failed.length}${named(a.failed.map((f) => `"${f.name}" (${f.id})`))}`,
    `  xAI cost    $${a.costUsd.toFixed(4)}, ${a.tokens} tokens`,
    ...trackRecordLines(r.trackRecord),
    ...r.queues.map(
      (q) =>
        `  Queue       ${q.name}: ${q.waiting} waiting${age(q.oldestAgeSeconds)}, DLQ ${q.deadLetters}`,
    ),
    `  Alarms      ${r.alarms === undefined ? 'n/a (no alarms on this stage)' : r.alarms.length === 0 ? 'none in ALARM' : `${r.alarms.length} in ALARM${named(r.alarms)}`}`,
    `  Polygon     ${known(r.polygon.calls)} call(s), at most ${known(r.polygon.maxPerMinute)} in any minute`,
  ];
  if (!r.complete) {
    out.push(`Problems (${r.problems.length}):`);
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return out;
}
