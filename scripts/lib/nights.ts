/**
 * `npm start -- --nights N`: N consecutive simulated nights with one set of local services, each
 * at the 04:30 UTC trigger after the next NYSE session (see night-clock.ts), so the score track
 * record fills up: an analysis of session D is evaluated on the night of D + h (h = 5 sessions by
 * default), i.e. from night h + 1 on. Only the last night prints the full report; every night
 * prints its progress lines, and the summary prints the track record.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Cleanup } from './cleanup';
import type { LocalServices } from './local-services';
import { installShiftedClock, nextNightAt, sessionAt } from './night-clock';
import { NIGHT_RECORD_FILE, readNightRecord } from './night-record';
import { scanAll } from './night-report';
import { LocalNight, playNight, type NightOptions, type NightResult } from './night-steps';
import type { OutputCapture } from './output-capture';
import {
  bestAndWorst,
  callsInWindow,
  formatAggregate,
  formatCalls,
  newestItems,
} from './track-record-report';

/** One night of a `--nights N` run, as the JSON result lists it. */
export interface NightSummary {
  readonly night: number;
  readonly at: string;
  readonly session?: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly evaluated?: number;
  readonly notDue?: number;
}

/** The result of a `--nights N` run: the last night's, with every night's summary. */
export type NightsResult = NightResult & { nights?: NightSummary[] };

/** One line per night: its session, whether it succeeded, what evaluateAnalyses did. */
export function formatNights(summaries: readonly NightSummary[]): string[] {
  return [
    'Nights (an analysis of session D is evaluated on the night that refreshes D + 5 sessions):',
    ...summaries.map(
      (s) =>
        `  night ${String(s.night).padStart(2)}  ${s.at.slice(0, 16)}Z  session ${s.session ?? '?'}  ` +
        `${s.ok ? 'OK    ' : 'FAILED'}  evaluated ${s.evaluated ?? '-'}, not yet due ${s.notDue ?? '-'}`,
    ),
  ];
}

/** The track record as `npm run track-record` prints it (five best and worst calls). */
async function printTrackRecord(services: LocalServices, capture: OutputCapture): Promise<void> {
  const items = newestItems(await scanAll(services.doc, services.names.trackRecord));
  capture.print('');
  capture.print('Score track record (npm run track-record):');
  if (services.xaiSimulator)
    capture.print(
      '  (xAI SIMULATED: its scores lean a little towards its own next-5-session returns, a planted signal, so these numbers show the mechanics, NOT the quality of Grok)',
    );
  for (const line of formatAggregate(items)) capture.print(line);
  if (items.length === 0) return;
  const analyses = await scanAll(services.doc, services.names.analyses);
  const newest = items.reduce((a, i) => (String(i.asOf) > a ? String(i.asOf) : a), '');
  const window = Math.max(...items.map((i) => Number(i.window)));
  const { best, worst } = bestAndWorst(callsInWindow(analyses, newest, window), 5);
  for (const line of formatCalls('Best calls:', best)) capture.print(line);
  for (const line of formatCalls('Worst calls:', worst)) capture.print(line);
}

/**
 * The session to continue after: that of the last night in `dataDir` when it is not before
 * today's (an earlier `--nights` run went ahead of the real clock), else none (start now).
 */
function continueAfter(dataDir: string | undefined): string | undefined {
  if (!dataDir || !existsSync(path.join(dataDir, NIGHT_RECORD_FILE))) return undefined;
  let session: string;
  try {
    session = readNightRecord(dataDir).session;
  } catch {
    return undefined; // not a night record: start now, as a plain `npm start` would
  }
  return session >= sessionAt(Date.now()) ? session : undefined;
}

const summaryOf = (night: number, at: number, r: NightResult): NightSummary => ({
  night,
  at: new Date(at).toISOString(),
  session: r.session,
  ok: r.ok,
  problems: r.problems,
  evaluated: r.steps.evaluateAnalyses?.evaluated,
  notDue: r.steps.evaluateAnalyses?.notDue,
});

/** Plays `count` nights (≥ 2); the result is the last night's, `ok` only when every night was. */
export async function runNights(
  opts: NightOptions,
  capture: OutputCapture,
  cleanup: Cleanup,
  count: number,
): Promise<NightsResult> {
  const started = performance.now();
  const clock = installShiftedClock();
  cleanup.add('the shifted clock', () => Promise.resolve(clock.restore()));
  const summaries: NightSummary[] = [];
  let services: LocalServices | undefined;
  let last: NightResult | undefined;
  const after = continueAfter(opts.dataDir);
  if (after) clock.jumpTo(nextNightAt(after));
  for (let n = 1; n <= count; n++) {
    if (last) clock.jumpTo(nextNightAt(last.session ?? sessionAt(Date.now())));
    const at = Date.now();
    capture.print('');
    capture.print(
      `=== Night ${n}/${count}: ${new Date(at).toISOString().slice(0, 16)}Z, session ${sessionAt(at)}` +
        (clock.offsetMs() === 0
          ? ' (now)'
          : ` (simulated clock${n === 1 ? `, continuing after session ${after} in --data-dir` : ''})`),
    );
    const night = new LocalNight(opts, capture);
    if (services) await night.attach(services);
    else await night.start(cleanup);
    services = night.services;
    last = await playNight(night, n === count);
    summaries.push(summaryOf(n, at, last));
  }
  capture.print('');
  for (const line of formatNights(summaries)) capture.print(line);
  if (services) await printTrackRecord(services, capture);
  if (!last) throw new RangeError(`--nights must be at least 1, got ${count}`);
  const problems = summaries.flatMap((s) => s.problems.map((p) => `night ${s.night}: ${p}`));
  // Real time (the shifted clock jumped days between the nights).
  const durationMs = performance.now() - started;
  return { ...last, ok: problems.length === 0, problems, durationMs, nights: summaries };
}
