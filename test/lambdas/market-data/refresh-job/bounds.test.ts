import { planRefresh, type PolygonCall } from '../../../../lambdas/market-data/domain/refresh-plan';
import { rebuildOf } from '../../../../lambdas/market-data/refresh-job/plan';
import { isRealDate } from '../../../../lambdas/market-data/refresh-job/bounds';
import { MAX_DEFERRALS, refreshJobSchema } from '../../../../lambdas/market-data/refresh-job';
import { processTickerFlow } from '../../../../lambdas/market-data/flows';
import type { RefreshJobDeps } from '../../../../lambdas/market-data/refresh-job';
import { parseProcessTickerEvent } from '../../../../lambdas/platform/events';
import { createSqsEvent } from '../../../helpers/events';

const SESSION = '2026-11-23'; // a Monday
const base = {
  v: 1,
  kind: 'refresh',
  runId: 'run-1',
  session: SESSION,
  tickers: ['NVDA', 'AAPL', 'NEWCO'],
  done: [],
  deferrals: 0,
};

/** The job the planner makes for NVDA/AAPL one session behind and NEWCO new. */
function planned(strategy: 'grouped' | 'range') {
  const states = [
    { ticker: 'NVDA', lastSession: '2026-11-20', hasState: true },
    { ticker: 'AAPL', lastSession: '2026-11-20', hasState: true },
    { ticker: 'NEWCO', hasState: false },
  ];
  // One new ticker: range (1 grouped + 1 range) beats grouped (110 calls); a grouped plan is
  // what the planner makes for many new tickers, so build it from the same states by hand.
  const plan = planRefresh(SESSION, states);
  expect(plan.strategy).toBe('range');
  if (strategy === 'range')
    return {
      ...base,
      plan: { strategy: plan.strategy, calls: [...plan.calls] },
      rebuild: rebuildOf(base.tickers, plan.rebuildSince),
    };
  const many = planRefresh(
    SESSION,
    Array.from({ length: 200 }, (_, i) => ({ ticker: `N${i}`, hasState: false })),
  );
  expect(many.strategy).toBe('grouped');
  const tickers = Array.from({ length: 200 }, (_, i) => `N${i}`);
  return {
    ...base,
    tickers,
    plan: { strategy: many.strategy, calls: [...many.calls] },
    rebuild: rebuildOf(tickers, many.rebuildSince),
    done: many.calls.slice(0, 3).map((c) => `grouped:${(c as { date: string }).date}`),
  };
}

const problems = (job: unknown) => {
  const parsed = refreshJobSchema.safeParse(job);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
};

describe('refresh-job message bounds', () => {
  it.each(['range', 'grouped'] as const)('accepts every %s job the planner makes', (strategy) => {
    expect(problems(planned(strategy))).toEqual([]);
    expect(problems(base)).toEqual([]);
  });

  it.each([
    ['2024-13-45', 'is not a real date'],
    ['2026-02-30', 'is not a real date'],
    ['1900-01-02', 'is not a real date'],
    ['2026-11-22', 'is not a trading day'], // a Sunday
    ['2026-11-26', 'is not a trading day'], // Thanksgiving
  ])('drops a job for session %s (%s) instead of throwing', (session, reason) => {
    expect(problems({ ...base, session })).toEqual([`session ${session} ${reason}`]);
    expect(isRealDate(session)).toBe(reason !== 'is not a real date');
  });

  it('refuses a plan no planner makes: too many, too old, foreign or repeated calls', () => {
    const job = planned('range');
    const grouped = (date: string): PolygonCall => ({ kind: 'grouped', date });
    const range = (ticker: string, from: string): PolygonCall => ({
      kind: 'range',
      ticker,
      from,
      to: SESSION,
    });
    const withCalls = (strategy: string, calls: PolygonCall[]) => ({
      ...job,
      plan: { strategy, calls },
    });
    expect(problems(withCalls('grouped', [grouped('2020-01-02')]))).toEqual([
      'grouped date 2020-01-02 is not one of the 110 sessions up to 2026-11-23',
    ]);
    expect(problems(withCalls('range', [range('TSLA', '2026-11-20')]))).toEqual([
      'range call for TSLA, not a ticker of the job',
    ]);
    expect(problems(withCalls('range', [range('NVDA', '1999-01-04')]))).toEqual([
      'range call starts 1999-01-04, not within 400 days before the session',
    ]);
    expect(problems(withCalls('grouped', [range('NVDA', '2026-11-20')]))).toEqual([
      'a grouped plan has no range calls',
    ]);
    expect(problems(withCalls('range', [grouped('2026-11-20')]))).toEqual([
      "a range plan's grouped call must be for the session 2026-11-23",
    ]);
    expect(problems(withCalls('none', [grouped(SESSION)]))).toEqual(['a none plan has calls']);
    expect(problems(withCalls('range', [grouped(SESSION), grouped(SESSION)]))).toEqual([
      'plan repeats a call',
    ]);
    // A forged plan of thousands of calls stops at five reported problems.
    const forged = Array.from({ length: 5_000 }, (_, i) => range(`X${i}`, '2026-11-20'));
    expect(problems(withCalls('range', forged))).toHaveLength(5);
  });

  it('refuses progress, rebuilds and deferrals outside the plan', () => {
    const job = planned('range');
    expect(problems({ ...job, done: ['grouped:2020-01-02'] })).toEqual([
      'done lists a call twice or one that is not planned',
    ]);
    expect(problems({ ...base, rebuild: { since: '2026-01-02', indexes: [0] } })).toEqual([
      'rebuild without a plan',
    ]);
    expect(problems({ ...job, rebuild: { since: '2020-01-02', indexes: [2] } })).toEqual([
      'rebuild since 2020-01-02 is not within 400 days before the session',
    ]);
    expect(problems({ ...job, rebuild: { since: job.rebuild!.since, indexes: [3] } })).toEqual([
      'rebuild names a ticker index past the end of tickers',
    ]);
    expect(problems({ ...base, tickers: ['NVDA', 'NVDA'] })).toEqual(['tickers repeat']);
    expect(problems({ ...base, deferrals: MAX_DEFERRALS })).toEqual([]);
    expect(problems({ ...base, deferrals: MAX_DEFERRALS + 1 })).toHaveLength(1);
  });
});

describe('processTickerFlow and a corrupted job', () => {
  it('acknowledges it as malformed (counted, logged), runs nothing and retries nothing', async () => {
    // Prepare: Tuesday 2026-11-24 04:30 UTC, the latest completed session is Monday 2026-11-23.
    const counts = new Map<string, number>();
    const problemsLogged: unknown[] = [];
    let ran = 0;
    const deps = {
      job: {
        runtime: {
          now: () => Date.parse('2026-11-24T04:30:00Z'),
          remainingMs: () => 900_000,
          log: () => undefined,
        },
        history: {
          latestRows: () => {
            ran++;
            return Promise.resolve([]);
          },
        },
      } as unknown as RefreshJobDeps,
      marker: { record: () => Promise.reject(new Error('must not run')) },
      newRunId: () => 'x',
      obs: {
        count: (m: string, v: number) => counts.set(m, (counts.get(m) ?? 0) + v),
        log: (_l: string, _m: string, data?: Record<string, unknown>) =>
          problemsLogged.push(data?.problem),
        correlate: () => undefined,
      },
    };

    // Act: a month 13, a future session, a forged plan of 5,000 calls.
    const result = await processTickerFlow(
      parseProcessTickerEvent(
        createSqsEvent([
          { ...base, session: '2024-13-45' },
          { ...base, session: '2026-11-24' },
          {
            ...base,
            plan: {
              strategy: 'grouped',
              calls: Array.from({ length: 5_000 }, () => ({ kind: 'grouped', date: '1999-01-04' })),
            },
          },
        ]),
      ),
      deps,
    );

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ran).toBe(0);
    expect(counts.get('MalformedMessages')).toBe(3);
    expect(problemsLogged).toEqual([
      ['(body): session 2024-13-45 is not a real date'],
      ['session: is after the latest completed session (not yet traded)'],
      expect.arrayContaining([expect.stringContaining('grouped date 1999-01-04 is not one of')]),
    ]);
  });
});
