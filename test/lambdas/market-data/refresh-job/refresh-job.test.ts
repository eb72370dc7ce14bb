import { indicatorSeries } from '../../../../lambdas/market-data/domain/indicators';
import {
  isTradingDay,
  previousTradingDay,
  tradingDaysBack,
  tradingDaysBetween,
} from '../../../../lambdas/market-data/domain/market-calendar';
import { sessionCloseIso } from '../../../../lambdas/platform/ny-time';
import {
  HISTORY_ROWS,
  MAX_DEFERRALS,
  MAX_TICKERS_PER_JOB,
  refreshJobSchema,
  REBUILT_HISTORY_ROWS,
  RefreshFailedError,
  runRefreshJob,
  type RefreshJob,
  type RefreshJobDeps,
  type RefreshOutcome,
  type RepriceSummary,
} from '../../../../lambdas/market-data/refresh-job';
import { BACKFILL_SESSIONS } from '../../../../lambdas/market-data/domain/refresh-plan';
import { finishReserveMs } from '../../../../lambdas/market-data/refresh-job/fetch';
import type { PlannedJob } from '../../../../lambdas/market-data/refresh-job/plan';
import {
  completeIndicators,
  rowFromBar,
  type BarLike,
  type TickerDataRow,
} from '../../../../lambdas/market-data/domain/ticker-rows';
import { MAX_MESSAGE_BYTES } from '../../../../lambdas/platform/job-queue';
import { UpstreamError, type UpstreamErrorKind } from '../../../../lambdas/platform/upstream-error';
import { polygonError } from '../../../../lambdas/market-data/adapters/polygon-error';
import { BudgetExhaustedError } from '../../../../lambdas/market-data/adapters/request-budget';

const SESSION = '2026-11-20';
const PREV = previousTradingDay(SESSION);
const NOW = Date.parse('2026-11-21T04:30:00.000Z');
const FETCHED_AT = new Date(NOW).toISOString();
const SUMMARY: RepriceSummary = { updated: 2, deleted: 0, moved: 0, conflicts: 0 };

/** Deterministic close of a ticker on a date (two decimals, moves up and down). */
function closeOf(ticker: string, date: string): number {
  let h = 0;
  for (const c of ticker) h = (h * 31 + c.charCodeAt(0)) % 997;
  const day = Date.parse(`${date}T00:00:00Z`) / 86_400_000;
  return Math.round((60 + h / 10 + 8 * Math.sin(day / 3 + h) + 3 * Math.cos(day / 7)) * 100) / 100;
}

const barOf = (ticker: string, session: string): BarLike => {
  const close = closeOf(ticker, session);
  return { ticker, session, open: close, high: close + 1, low: close - 1, close, volume: 1_000 };
};

const dayBefore = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** An upstream failure of a kind, as the fetchers (or the request budget in them) throw it. */
const upstream = (kind: UpstreamErrorKind, retryAfterMs?: number) =>
  new UpstreamError(kind, { kind, name: 'TestUpstreamError', retryAfterMs });

/**
 * A plain in-memory world: a market where `traded` symbols have a bar every trading day, a
 * ticker-data table keyed like DynamoDB (ticker + timestamp), a queue of scripted failures for
 * the next fetches, and records of everything the job did.
 */
class World {
  readonly traded = new Set<string>();
  readonly unpublished = new Set<string>();
  readonly table = new Map<string, Map<string, Record<string, unknown>>>();
  readonly memo = new Map<string, string>();
  /** Failures thrown by the next fetches, in order (`on` restricts one to a call key). */
  failures: { error: Error; on?: string }[] = [];
  calls: string[] = [];
  deferred: { job: RefreshJob; delaySeconds: number }[] = [];
  puts: TickerDataRow[][] = [];
  repriced: Map<string, { price: number; asOf: string }>[] = [];
  reads: { ticker: string; limit: number }[] = [];
  logs: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  recorded: { tickers: string[]; session: string }[] = [];
  remaining = 900_000;
  /** The parked-rows store (absent unless `parking`), keyed by job key and id. */
  parking = false;
  /** Whether the history port has `rowsAt` (the steady night's BatchGetItem); keys read by it. */
  batchRead = false;
  keysRead: { ticker: string; timestamp: string }[] = [];
  readonly parkedStore = new Map<string, TickerDataRow[]>();

  constructor(traded: readonly string[]) {
    for (const t of traded) this.traded.add(t);
  }

  /** Stores `n` completed sessions of a ticker ending at `through`. */
  seed(ticker: string, n: number, through = PREV): TickerDataRow[] {
    const rows = completeIndicators(
      tradingDaysBack(through, n).map((d) =>
        rowFromBar(ticker, barOf(ticker, d), 'polygon-range', '2026-01-01T00:00:00.000Z'),
      ),
    );
    this.store(rows);
    return rows;
  }

  store(rows: readonly object[]): void {
    for (const row of rows as readonly Record<string, unknown>[]) {
      const t = String(row.ticker);
      let m = this.table.get(t);
      if (!m) this.table.set(t, (m = new Map()));
      // Numbers survive DynamoDB exactly, and items come back as fresh objects.
      m.set(String(row.timestamp), JSON.parse(JSON.stringify(row)) as Record<string, unknown>);
    }
  }

  /** A ticker's stored rows, oldest first. */
  rows(ticker: string): Record<string, unknown>[] {
    return [...(this.table.get(ticker)?.values() ?? [])].sort((a, b) =>
      String(a.timestamp) < String(b.timestamp) ? -1 : 1,
    );
  }

  row(ticker: string, session: string): Record<string, unknown> | undefined {
    return this.table.get(ticker)?.get(sessionCloseIso(session));
  }

  private fetch(key: string): void {
    this.calls.push(key);
    const next = this.failures[0];
    if (next && (next.on === undefined || next.on === key)) {
      this.failures.shift();
      throw next.error;
    }
  }

  deps(overrides: Partial<RefreshJobDeps> = {}): RefreshJobDeps {
    return {
      bars: {
        groupedDaily: async (date) => {
          this.fetch(`grouped:${date}`);
          if (this.unpublished.has(date) || !isTradingDay(date)) return [];
          return [...this.traded].map((t) => barOf(t, date));
        },
        dailyRange: async (ticker, from, to) => {
          this.fetch(`range:${ticker}`);
          if (!this.traded.has(ticker)) return [];
          return tradingDaysBetween(dayBefore(from), to)
            .filter((d) => !this.unpublished.has(d))
            .map((d) => barOf(ticker, d));
        },
      },
      history: {
        latestRows: async (ticker, limit) => {
          this.reads.push({ ticker, limit });
          return this.rows(ticker).reverse().slice(0, limit);
        },
        putRows: async (rows) => {
          this.puts.push([...rows]);
          this.store(rows);
        },
        ...(this.batchRead
          ? {
              rowsAt: async (keys: readonly { ticker: string; timestamp: string }[]) => {
                this.keysRead.push(...keys);
                return keys.flatMap((k) => {
                  const item = this.table.get(k.ticker)?.get(k.timestamp);
                  return item ? [JSON.parse(JSON.stringify(item)) as Record<string, unknown>] : [];
                });
              },
            }
          : {}),
      },
      deferrals: {
        send: async (job, delaySeconds) => {
          this.deferred.push({ job: JSON.parse(JSON.stringify(job)) as RefreshJob, delaySeconds });
        },
      },
      positions: {
        reprice: async (prices) => {
          this.repriced.push(new Map(prices));
          return SUMMARY;
        },
      },
      runtime: {
        now: () => NOW,
        remainingMs: () => this.remaining,
        log: (level, message, data) => this.logs.push({ level, message, data }),
      },
      ...(this.parking
        ? {
            parked: {
              park: async (jobKey: string, rows: readonly TickerDataRow[]) => {
                const id = `${String(this.parkedStore.size).padStart(8, '0')}.1`;
                this.parkedStore.set(`${jobKey}/${id}`, JSON.parse(JSON.stringify(rows)));
                return id;
              },
              load: async (jobKey: string, id: string) => {
                const rows = this.parkedStore.get(`${jobKey}/${id}`);
                if (!rows) throw new Error(`no parked rows ${id}`);
                return rows;
              },
            },
          }
        : {}),
      noData: {
        known: async (tickers, session) =>
          new Set(tickers.filter((t) => this.memo.get(t) === session)),
        record: async (tickers, session) => {
          this.recorded.push({ tickers: [...tickers], session });
          for (const t of tickers) this.memo.set(t, session);
        },
      },
      ...overrides,
    };
  }
}

const jobFor = (tickers: string[], extra: Partial<RefreshJob> = {}): RefreshJob => ({
  v: 1,
  kind: 'refresh',
  runId: 'run-1',
  session: SESSION,
  tickers: [...tickers].sort(),
  done: [],
  deferrals: 0,
  ...extra,
});

const done = (o: RefreshOutcome) => {
  if (o.status !== 'done') throw new Error(`expected a finished job, got ${JSON.stringify(o)}`);
  return o;
};

/** Indicators a from-scratch computation over a ticker's whole stored history gives its last row. */
const expectedLast = (world: World, ticker: string) => {
  const closes = world.rows(ticker).map((r) => r.price as number);
  return indicatorSeries(closes)[closes.length - 1];
};

/** The comparable content of a stored row (what the job computed, not when it fetched it). */
const content = (r: Record<string, unknown>) => {
  const { fetchedAt: _f, source: _s, ...rest } = r;
  return rest;
};

describe('runRefreshJob: a steady-state night', () => {
  it('refreshes every ticker with one grouped call and continues their indicators exactly', async () => {
    // Prepare
    const world = new World(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    for (const t of ['AAPL', 'MSFT', 'NVDA']) world.seed(t, 80);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['AAPL', 'MSFT', 'NVDA']), world.deps()));

    // Assess
    expect(world.calls).toEqual([`grouped:${SESSION}`]);
    expect(outcome).toEqual({
      status: 'done',
      session: SESSION,
      strategy: 'range',
      refreshed: ['AAPL', 'MSFT', 'NVDA'],
      alreadyFresh: 0,
      noData: [],
      polygonCalls: 1,
      rowsWritten: 3,
      splitsApplied: 0,
      positions: SUMMARY,
    });
    for (const t of ['AAPL', 'MSFT', 'NVDA']) {
      const row = world.row(t, SESSION)!;
      const expected = expectedLast(world, t);
      expect(row).toMatchObject({
        asOf: SESSION,
        price: closeOf(t, SESSION),
        rsi: expected.rsi,
        ma50: expected.ma50,
        rsiAvgGain: expected.avgGain,
        rsiAvgLoss: expected.avgLoss,
        indicatorVersion: 1,
        source: 'polygon-grouped',
        fetchedAt: FETCHED_AT,
      });
    }
    expect(world.table.has('TSLA')).toBe(false);
    expect(world.repriced).toEqual([
      new Map(
        ['AAPL', 'MSFT', 'NVDA'].map((t) => [t, { price: closeOf(t, SESSION), asOf: SESSION }]),
      ),
    ]);
  });

  it('spends nothing and writes nothing when every ticker is already fresh, but still reprices', async () => {
    // Prepare
    const world = new World(['AAPL', 'NVDA']);
    world.seed('AAPL', 60, SESSION);
    world.seed('NVDA', 60, SESSION);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['AAPL', 'NVDA']), world.deps()));

    // Assess
    expect(world.calls).toEqual([]);
    expect(world.puts).toEqual([]);
    expect(outcome).toMatchObject({
      strategy: 'none',
      alreadyFresh: 2,
      refreshed: [],
      rowsWritten: 0,
    });
    expect(world.repriced[0].get('NVDA')).toEqual({
      price: closeOf('NVDA', SESSION),
      asOf: SESSION,
    });
  });

  it("reads further back when the old service's rows crowd ours out of the newest rows", async () => {
    // Prepare: 60 sessions of ours, and one Python row per run after each of the last 60.
    const world = new World(['OLDT']);
    const ours = world.seed('OLDT', 60);
    world.store(
      ours.map((r) => ({
        ticker: 'OLDT',
        timestamp: `${r.asOf}T23:31:07.123456`,
        price: r.price + 0.01,
        rsi: 1,
        ma50: 1,
      })),
    );

    // Act
    done(await runRefreshJob(jobFor(['OLDT']), world.deps()));

    // Assess: MA50 is there (49 of our closes before the new one), equal to a full computation.
    const closes = [...ours.map((r) => r.price), closeOf('OLDT', SESSION)];
    const expected = indicatorSeries(closes)[closes.length - 1];
    expect(world.row('OLDT', SESSION)).toMatchObject({ ma50: expected.ma50, rsi: expected.rsi });
    expect(world.reads.filter((r) => r.ticker === 'OLDT').map((r) => r.limit)).toEqual([
      HISTORY_ROWS,
      REBUILT_HISTORY_ROWS,
    ]);
  });
});

describe("runRefreshJob: the steady night's batch read", () => {
  /** Two worlds with the same stored rows, one reading histories, one by key (rowsAt). */
  const worlds = (prepare: (w: World) => void) => {
    const [full, batch] = [new World(TICKERS), new World(TICKERS)];
    batch.batchRead = true;
    prepare(full);
    prepare(batch);
    return { full, batch };
  };
  const TICKERS = ['AAPL', 'GOOG', 'MSFT', 'NVDA'];
  const windowless = (w: World, t: string) =>
    w.store(w.seed(t, 80).map(({ recentCloses: _c, ...r }) => r));

  it('continues from the previous row alone where it can, and gives the rows of the full read', async () => {
    // Prepare: NVDA's rows predate the stored closes, GOOG missed the previous session
    const { full, batch } = worlds((w) => {
      w.seed('AAPL', 80);
      w.seed('MSFT', 120);
      windowless(w, 'NVDA');
      w.seed('GOOG', 80, previousTradingDay(PREV));
    });

    // Act
    const outcomes = await Promise.all(
      [full, batch].map(async (w) => done(await runRefreshJob(jobFor(TICKERS), w.deps()))),
    );

    // Assess: same outcome, calls and table; history read only for the two that need it
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(batch.calls).toEqual(full.calls);
    expect(TICKERS.map((t) => batch.rows(t))).toEqual(TICKERS.map((t) => full.rows(t)));
    expect(full.reads.map((r) => r.ticker)).toEqual(TICKERS);
    expect(batch.reads.map((r) => r.ticker)).toEqual(['GOOG', 'NVDA']);
    expect(batch.keysRead).toHaveLength(2 * TICKERS.length);
    // Each new row carries the closes the next night continues from
    const aapl = batch.rows('AAPL');
    expect(batch.row('AAPL', SESSION)?.recentCloses).toEqual(aapl.slice(-49).map((r) => r.price));
  });

  /** AAPL up to date (continued), four tickers that missed 3 sessions: grouped days before PREV. */
  const BEHIND = ['GOOG', 'MSFT', 'NVDA', 'TSLA'];
  const missedThree = () => {
    const ws = [new World(['AAPL', ...BEHIND]), new World(['AAPL', ...BEHIND])];
    ws[1].batchRead = true;
    for (const w of ws) {
      w.seed('AAPL', 80);
      for (const t of BEHIND) w.seed(t, 80, tradingDaysBack(PREV, 4)[0]);
    }
    return { full: ws[0], batch: ws[1], tickers: ['AAPL', ...BEHIND] };
  };

  it('leaves the older rows of a continued ticker alone when other tickers missed sessions', async () => {
    // Prepare
    const { full, batch, tickers } = missedThree();
    const before = batch.rows('AAPL');

    // Act
    const outcomes = await Promise.all(
      [full, batch].map(async (w) => done(await runRefreshJob(jobFor(tickers), w.deps()))),
    );

    // Assess: the older grouped days were fetched, yet AAPL's stored rows are as they were
    expect(batch.calls).toContain(`grouped:${previousTradingDay(PREV)}`);
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(batch.reads.map((r) => r.ticker)).toEqual(BEHIND);
    expect(batch.rows('AAPL').slice(0, -1)).toEqual(before);
    expect(
      batch.puts
        .flat()
        .filter((r) => r.ticker === 'AAPL')
        .map((r) => r.asOf),
    ).toEqual([SESSION]);
    expect(tickers.map((t) => batch.rows(t))).toEqual(tickers.map((t) => full.rows(t)));
  });

  it('persists no older bar of a continued ticker when the job defers', async () => {
    // Prepare: as above, and the session's grouped call is rate-limited (no parked-rows store)
    const { batch, tickers } = missedThree();
    batch.failures = [{ error: upstream('rate-limited'), on: `grouped:${SESSION}` }];

    // Act
    const outcome = await runRefreshJob(jobFor(tickers), batch.deps());

    // Assess: the missed sessions are persisted raw for the resumed job, nothing of AAPL
    expect(outcome).toMatchObject({ status: 'deferred', reason: 'rate-limited' });
    const put = batch.puts.flat();
    expect(put.filter((r) => r.ticker === 'MSFT')).toHaveLength(3);
    expect(put.filter((r) => r.ticker === 'AAPL')).toEqual([]);
  });

  it('spends nothing, reads no history and writes nothing on a re-run of a done night', async () => {
    // Prepare: the night ran once
    const { batch } = worlds((w) => TICKERS.forEach((t) => w.seed(t, 80)));
    done(await runRefreshJob(jobFor(TICKERS), batch.deps()));
    Object.assign(batch, { calls: [], reads: [], puts: [] });

    // Act
    const outcome = done(await runRefreshJob(jobFor(TICKERS), batch.deps()));

    // Assess
    expect(outcome).toMatchObject({ strategy: 'none', alreadyFresh: 4, rowsWritten: 0 });
    expect([batch.calls, batch.reads, batch.puts]).toEqual([[], [], []]);
  });

  it('reads histories for a session older than the latest completed one', async () => {
    // Prepare
    const { batch } = worlds((w) =>
      TICKERS.forEach((t) => w.seed(t, 80, previousTradingDay(PREV))),
    );

    // Act
    await runRefreshJob(jobFor(TICKERS, { session: PREV }), batch.deps());

    // Assess
    expect(batch.keysRead).toEqual([]);
    expect(batch.reads.map((r) => r.ticker)).toEqual(TICKERS);
  });
});

describe('runRefreshJob: deferral', () => {
  /** One steady ticker and three new ones: a grouped call and three history calls. */
  const prepare = () => {
    const world = new World(['NVDA', 'AAA', 'BBB', 'CCC']);
    world.seed('NVDA', 80);
    return { world, job: jobFor(['NVDA', 'AAA', 'BBB', 'CCC']) };
  };

  it.each<[string, Error, string, number]>([
    ['the budget is spent', new BudgetExhaustedError(12_345), 'budget', 13],
    ['the budget gives no hint', upstream('budget'), 'budget', 60],
    ['Polygon answers 429', upstream('rate-limited'), 'rate-limited', 60],
    ['Polygon answers 429 with Retry-After', upstream('rate-limited', 1_500), 'rate-limited', 2],
    [
      'Polygon answers 429 (the client error)',
      polygonError('PolygonRateLimitedError', '429', { retryAfterMs: 1_500 }),
      'rate-limited',
      2,
    ],
    [
      'Polygon answers 403 (session not published)',
      upstream('not-available'),
      'not-published',
      900,
    ],
    ['Polygon answers 5xx', upstream('server'), 'upstream-error', 300],
    ['the request times out', upstream('network'), 'upstream-error', 300],
    ['the wait is longer than SQS allows', new BudgetExhaustedError(3_600_000), 'budget', 900],
  ])(
    're-enqueues the job when %s, keeping its plan and its finished calls',
    async (_, error, reason, delay) => {
      // Prepare: the third call (history of BBB) fails.
      const { world, job } = prepare();
      world.failures = [{ error, on: 'range:BBB' }];

      // Act
      const outcome = await runRefreshJob(job, world.deps());

      // Assess
      expect(outcome).toEqual({
        status: 'deferred',
        reason,
        delaySeconds: delay,
        polygonCalls: 2,
        remainingCalls: 2,
      });
      expect(world.deferred).toHaveLength(1);
      const [{ job: next, delaySeconds }] = world.deferred;
      expect(delaySeconds).toBe(delay);
      expect(delaySeconds).toBeLessThanOrEqual(900);
      expect(next).toMatchObject({
        runId: 'run-1',
        session: SESSION,
        tickers: job.tickers,
        deferrals: 1,
        done: [`grouped:${SESSION}`, 'range:AAA'],
        plan: {
          strategy: 'range',
          calls: [
            { kind: 'grouped', date: SESSION },
            { kind: 'range', ticker: 'AAA', from: '2025-10-16', to: SESSION },
            { kind: 'range', ticker: 'BBB', from: '2025-10-16', to: SESSION },
            { kind: 'range', ticker: 'CCC', from: '2025-10-16', to: SESSION },
          ],
        },
        rebuild: { since: '2025-10-16', indexes: [0, 1, 2] },
      });
      // What was fetched is kept (raw) for the resumed job; nothing is repriced yet.
      // (The grouped day carries the session's bar of every ticker; AAA's history came whole.)
      const written = world.puts.flat();
      const sessionsOf = (t: string) => written.filter((r) => r.ticker === t).map((r) => r.asOf);
      for (const t of ['NVDA', 'BBB', 'CCC']) expect(sessionsOf(t)).toEqual([SESSION]);
      expect(sessionsOf('AAA').sort()).toEqual(tradingDaysBetween('2025-10-15', SESSION));
      expect(written.every((r) => r.indicatorVersion === undefined)).toBe(true);
      expect(world.repriced).toEqual([]);
    },
  );

  it('defers when the grouped day of the session is empty on a trading day (not published yet)', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80);
    world.unpublished.add(SESSION);

    // Act
    const outcome = await runRefreshJob(jobFor(['NVDA']), world.deps());

    // Assess: the call is not marked done, so the resumed job asks again.
    expect(outcome).toMatchObject({
      status: 'deferred',
      reason: 'not-published',
      delaySeconds: 900,
    });
    expect(world.deferred[0].job.done).toEqual([]);
    expect(world.deferred[0].job.plan?.calls).toEqual([{ kind: 'grouped', date: SESSION }]);
    expect(world.puts).toEqual([]);
  });

  it('defers before calling when the invocation is running out of time', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80);
    // One ticker's finishing reserve is about 30 s, plus 30 s for the call.
    world.remaining = 55_000;

    // Act
    const outcome = await runRefreshJob(jobFor(['NVDA']), world.deps());

    // Assess
    expect(outcome).toMatchObject({ status: 'deferred', reason: 'time', delaySeconds: 1 });
    expect(world.calls).toEqual([]);
  });

  it(`gives up after ${MAX_DEFERRALS} deferrals so that the job reaches the DLQ`, async () => {
    // Prepare
    const { world, job } = prepare();
    world.failures = [{ error: new BudgetExhaustedError(1_000) }];

    // Act + Assess
    await expect(runRefreshJob({ ...job, deferrals: MAX_DEFERRALS }, world.deps())).rejects.toThrow(
      new RegExp(`deferred ${MAX_DEFERRALS} times \\(last: budget\\)`),
    );
    expect(world.deferred).toEqual([]);
  });

  it('still defers on the last allowed attempt', async () => {
    // Prepare
    const { world, job } = prepare();
    world.failures = [{ error: new BudgetExhaustedError(1_000) }];

    // Act
    const outcome = await runRefreshJob({ ...job, deferrals: MAX_DEFERRALS - 1 }, world.deps());

    // Assess
    expect(outcome.status).toBe('deferred');
    expect(world.deferred[0].job.deferrals).toBe(MAX_DEFERRALS);
  });

  it.each<[string, Error, string]>([
    [
      'auth',
      polygonError('PolygonAuthError', 'Unknown API Key'),
      'PolygonAuthError: Unknown API Key',
    ],
    [
      'bad-response',
      polygonError('PolygonBadResponseError', 'results is not an array'),
      'PolygonBadResponseError: results is not an array',
    ],
    ['other', polygonError('PolygonRequestError', 'HTTP 400'), 'PolygonRequestError: HTTP 400'],
    ['non-upstream', new TypeError('bars is not iterable'), 'TypeError: bars is not iterable'],
  ])('fails loudly (no deferral) on a %s error', async (_, failure, text) => {
    // Prepare
    const { world, job } = prepare();
    world.failures = [{ error: failure }];

    // Act
    const error: unknown = await runRefreshJob(job, world.deps()).catch((e: unknown) => e);

    // Assess: the message names the call and the error as `name: message`.
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect((error as Error).message).toBe(`Polygon grouped daily ${SESSION} failed: ${text}`);
    expect(world.deferred).toEqual([]);
    expect(world.repriced).toEqual([]);
  });

  it('resumes a deferred job where it stopped and ends with the rows of an uninterrupted one', async () => {
    // Prepare: a run that is deferred twice (429, then budget), and a control run that is not.
    const { world, job } = prepare();
    world.failures = [
      { error: upstream('rate-limited'), on: 'range:BBB' },
      { error: new BudgetExhaustedError(500), on: 'range:CCC' },
    ];
    const control = prepare();
    const expected = done(await runRefreshJob(control.job, control.world.deps()));

    // Act
    const first = await runRefreshJob(job, world.deps());
    const second = await runRefreshJob(world.deferred[0].job, world.deps());
    const third = done(await runRefreshJob(world.deferred[1].job, world.deps()));

    // Assess: every call made once (plus the failed attempts), none repeated after resuming.
    expect(first).toMatchObject({ status: 'deferred', polygonCalls: 2 });
    expect(second).toMatchObject({ status: 'deferred', polygonCalls: 1 });
    expect(world.calls).toEqual([
      `grouped:${SESSION}`,
      'range:AAA',
      'range:BBB',
      'range:BBB',
      'range:CCC',
      'range:CCC',
    ]);
    expect(world.deferred[1].job).toMatchObject({
      deferrals: 2,
      done: [`grouped:${SESSION}`, 'range:AAA', 'range:BBB'],
    });
    expect(third).toMatchObject({
      refreshed: ['AAA', 'BBB', 'CCC', 'NVDA'],
      noData: [],
      polygonCalls: 1,
    });
    for (const t of ['NVDA', 'AAA', 'BBB', 'CCC']) {
      expect(world.rows(t).map(content)).toEqual(control.world.rows(t).map(content));
      expect(world.rows(t).every((r) => r.indicatorVersion === 1)).toBe(true);
    }
    expect(world.repriced).toEqual(control.world.repriced);
    expect(expected.refreshed).toEqual(third.refreshed);
  });

  it('does not overwrite stored computed rows with raw ones when a backfill is deferred', async () => {
    // Prepare: enough new tickers for a grouped backfill; NVDA already has 80 computed sessions.
    const newcomers = Array.from({ length: BACKFILL_SESSIONS + 5 }, (_, i) => `N${i}`);
    const world = new World(['NVDA', ...newcomers]);
    world.seed('NVDA', 80);
    const before = new Map(world.rows('NVDA').map((r) => [String(r.asOf), r]));
    // The 101st grouped day fails: the first 100 (oldest first) are fetched and kept.
    const days = tradingDaysBack(SESSION, BACKFILL_SESSIONS);
    world.failures = [{ error: new BudgetExhaustedError(1_000), on: `grouped:${days[100]}` }];

    // Act
    const outcome = await runRefreshJob(jobFor(['NVDA', ...newcomers]), world.deps());

    // Assess: NVDA's computed rows are untouched; its older sessions were new rows, written raw.
    expect(outcome).toMatchObject({ status: 'deferred', polygonCalls: 100 });
    for (const [asOf, row] of before) expect(world.row('NVDA', asOf)).toEqual(row);
    expect(world.rows('NVDA')).toHaveLength(
      new Set([...before.keys(), ...days.slice(0, 100)]).size,
    );
    expect(world.rows('N0')).toHaveLength(100);

    // And the resumed job completes everything from the full history.
    const resumed = done(await runRefreshJob(world.deferred[0].job, world.deps()));
    expect(resumed.polygonCalls).toBe(10);
    const nvda = world.row('NVDA', SESSION)!;
    expect(nvda).toMatchObject({ rsi: expectedLast(world, 'NVDA').rsi });
    expect(world.rows('N0').every((r) => r.indicatorVersion === 1)).toBe(true);
  });
});

describe('runRefreshJob: parked rows', () => {
  /** NVDA with 80 computed sessions and enough newcomers for a grouped backfill. */
  const backfill = () => {
    const newcomers = Array.from({ length: BACKFILL_SESSIONS + 5 }, (_, i) => `N${i}`);
    const world = new World(['NVDA', ...newcomers]);
    world.seed('NVDA', 80);
    world.parking = true;
    return { world, job: jobFor(['NVDA', ...newcomers]) };
  };

  it('writes every row once, with its indicators, and reads no history while resumed', async () => {
    // Prepare: a backfill refused twice by the budget, and a control run that is not.
    const { world, job } = backfill();
    const days = tradingDaysBack(SESSION, BACKFILL_SESSIONS);
    world.failures = [
      { error: new BudgetExhaustedError(1_000), on: `grouped:${days[40]}` },
      { error: new BudgetExhaustedError(1_000), on: `grouped:${days[80]}` },
    ];
    const control = backfill();
    done(await runRefreshJob(control.job, control.world.deps()));
    const seeded = world.puts.length;

    // Act
    const first = await runRefreshJob(job, world.deps());
    const readsAfterFirst = world.reads.length;
    const second = await runRefreshJob(world.deferred[0].job, world.deps());
    const readsAfterSecond = world.reads.length;
    const third = done(await runRefreshJob(world.deferred[1].job, world.deps()));

    // Assess: nothing written before the end, each row written once; the same rows as the control.
    expect(first).toMatchObject({ status: 'deferred', polygonCalls: 40 });
    expect(second).toMatchObject({ status: 'deferred', polygonCalls: 40 });
    expect(world.deferred.map((d) => d.job.parked)).toEqual([
      ['00000000.1'],
      ['00000000.1', '00000001.1'],
    ]);
    expect(world.puts.slice(seeded)).toHaveLength(1);
    const written = world.puts.slice(seeded).flat();
    expect(new Set(written.map((r) => `${r.ticker}/${r.asOf}`)).size).toBe(written.length);
    expect(written.every((r) => r.indicatorVersion === 1)).toBe(true);
    expect(third.rowsWritten).toBe(written.length);
    for (const t of ['NVDA', 'N0', `N${BACKFILL_SESSIONS + 4}`])
      expect(world.rows(t).map(content)).toEqual(control.world.rows(t).map(content));
    // Reads: every ticker once to plan, none while resumed, NVDA (continued) once to finish.
    expect(readsAfterFirst).toBe(job.tickers.length);
    expect(readsAfterSecond).toBe(readsAfterFirst);
    expect(world.reads.slice(readsAfterSecond).map((r) => r.ticker)).toEqual(['NVDA']);
    expect(world.repriced).toEqual(control.world.repriced);
  });

  it('finishes a job queued before parking the old way (raw rows, then re-read)', async () => {
    // Prepare: the first invocation runs without the store and defers.
    const { world, job } = backfill();
    world.parking = false;
    const days = tradingDaysBack(SESSION, BACKFILL_SESSIONS);
    world.failures = [{ error: new BudgetExhaustedError(1_000), on: `grouped:${days[60]}` }];
    const control = backfill();
    done(await runRefreshJob(control.job, control.world.deps()));
    await runRefreshJob(job, world.deps());

    // Act: resumed with the store.
    world.parking = true;
    const outcome = done(await runRefreshJob(world.deferred[0].job, world.deps()));

    // Assess
    expect(world.deferred[0].job.parked).toBeUndefined();
    expect(outcome.refreshed).toHaveLength(job.tickers.length);
    expect(world.parkedStore.size).toBe(0);
    for (const t of ['NVDA', 'N0'])
      expect(world.rows(t).map(content)).toEqual(control.world.rows(t).map(content));
  });

  it('fails loudly when parked rows are gone', async () => {
    // Prepare
    const { world, job } = backfill();
    world.failures = [{ error: new BudgetExhaustedError(1_000), on: `grouped:${SESSION}` }];
    await runRefreshJob(job, world.deps());
    world.parkedStore.clear();

    // Act + Assess
    await expect(runRefreshJob(world.deferred[0].job, world.deps())).rejects.toThrow(
      /no parked rows/,
    );
  });
});

describe('finishReserveMs', () => {
  const planned = (tickers: number, rebuilt: number, groupedDays: number): PlannedJob => ({
    ...jobFor(Array.from({ length: tickers }, (_, i) => `T${i}`)),
    plan: {
      strategy: 'grouped',
      calls: tradingDaysBack(SESSION, groupedDays).map((date) => ({ kind: 'grouped', date })),
    },
    rebuild: { since: SESSION, indexes: Array.from({ length: rebuilt }, (_, i) => i) },
  });

  it('grows with the tickers and rows left to finish, within a cap', () => {
    const steady = finishReserveMs(planned(5_000, 0, 1));
    const firstNight = finishReserveMs(planned(5_000, 5_000, BACKFILL_SESSIONS));
    expect(steady).toBe(30_000 + 2_500 + 50_000);
    expect(firstNight).toBe(30_000 + 275_000 + 50_000);
    expect(finishReserveMs(planned(10_000, 10_000, BACKFILL_SESSIONS))).toBe(600_000);
    expect(finishReserveMs(planned(1, 0, 1))).toBeLessThan(31_000);
  });
});

describe('runRefreshJob: message size at the bound', () => {
  it(`keeps a deferred job of ${MAX_TICKERS_PER_JOB} new 10-character tickers within one SQS message`, async () => {
    // Prepare: the largest job, every ticker new, the budget spent after the first grouped call.
    const tickers = Array.from(
      { length: MAX_TICKERS_PER_JOB },
      (_, i) => `T${String(i).padStart(9, '0')}`,
    );
    const world = new World([]);
    world.failures = [{ error: new BudgetExhaustedError(60_000) }];

    // Act
    const outcome = await runRefreshJob(jobFor(tickers), world.deps());

    // Assess: deferred, every ticker marked for rebuild, and the body under 256 KiB.
    expect(outcome.status).toBe('deferred');
    const [{ job: next }] = world.deferred;
    expect(next.rebuild?.indexes).toHaveLength(MAX_TICKERS_PER_JOB);
    expect(refreshJobSchema.parse(JSON.parse(JSON.stringify(next)))).toEqual(next);
    expect(Buffer.byteLength(JSON.stringify(next))).toBeLessThan(MAX_MESSAGE_BYTES);
  });
});

describe('runRefreshJob: tickers without data', () => {
  it('spends no history call on a new ticker missing from the grouped day of the session', async () => {
    // Prepare: ZZZZ is unknown to the market.
    const world = new World(['NVDA', 'AAPL']);
    world.seed('NVDA', 80);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['NVDA', 'AAPL', 'ZZZZ']), world.deps()));

    // Assess
    expect(world.calls).toEqual([`grouped:${SESSION}`, 'range:AAPL']);
    expect(outcome).toMatchObject({
      refreshed: ['AAPL', 'NVDA'],
      noData: ['ZZZZ'],
      polygonCalls: 2,
    });
  });

  it('reports a ticker without data, writes no row for it and prices nothing', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80, SESSION);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['NVDA', 'ZZZZ']), world.deps()));

    // Assess
    expect(world.calls).toEqual(['range:ZZZZ']);
    expect(outcome).toMatchObject({ noData: ['ZZZZ'], alreadyFresh: 1, rowsWritten: 0 });
    expect(world.table.has('ZZZZ')).toBe(false);
    expect(world.puts.flat().some((r) => r.ticker === 'ZZZZ')).toBe(false);
    expect(world.repriced[0].has('ZZZZ')).toBe(false);
    expect(world.logs).toContainEqual({
      level: 'warn',
      message: 'Tickers without data for the session',
      data: { session: SESSION, count: 1, tickers: ['ZZZZ'] },
    });
  });

  it('reports a delisted ticker whose history stops before the session', async () => {
    // Prepare: GONE has history through the previous session but trades no more.
    const world = new World(['NVDA']);
    world.seed('NVDA', 80);
    world.seed('GONE', 80);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['NVDA', 'GONE']), world.deps()));

    // Assess
    expect(world.calls).toEqual([`grouped:${SESSION}`]);
    expect(outcome).toMatchObject({ refreshed: ['NVDA'], noData: ['GONE'] });
    expect(world.row('GONE', SESSION)).toBeUndefined();
    expect(world.repriced[0].has('GONE')).toBe(false);
  });
});

describe('runRefreshJob: no-data memo', () => {
  it('records the tickers without data, and a re-run of the session spends no call on them', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80, SESSION);
    const job = jobFor(['NVDA', 'ZZZZ']);
    await runRefreshJob(job, world.deps());
    const callsBefore = world.calls.length;

    // Act
    const rerun = done(await runRefreshJob(job, world.deps()));

    // Assess: recorded once, for this session; the re-run still reports it without data.
    expect(world.recorded).toEqual([{ tickers: ['ZZZZ'], session: SESSION }]);
    expect(world.calls.slice(callsBefore)).toEqual([]);
    expect(rerun).toMatchObject({
      strategy: 'none',
      polygonCalls: 0,
      noData: ['ZZZZ'],
      alreadyFresh: 1,
    });
    expect(world.logs.filter((l) => l.message === 'Refresh planned').map((l) => l.data)).toEqual([
      expect.objectContaining({ knownNoData: 0, calls: 1 }),
      expect.objectContaining({ knownNoData: 1, calls: 0 }),
    ]);
  });

  it('looks up only the tickers that lack the session', async () => {
    // Prepare
    const world = new World(['NVDA', 'AAPL']);
    world.seed('NVDA', 80, SESSION);
    world.seed('AAPL', 80);
    const asked: string[][] = [];

    // Act
    await runRefreshJob(
      jobFor(['NVDA', 'AAPL', 'ZZZZ']),
      world.deps({
        noData: {
          known: async (tickers) => {
            asked.push([...tickers]);
            return new Set<string>();
          },
          record: async () => undefined,
        },
      }),
    );

    // Assess
    expect(asked).toEqual([['AAPL', 'ZZZZ']]);
  });

  it('plans a ticker again for a later session', async () => {
    // Prepare: ZZZZ had no data for the previous session.
    const world = new World(['NVDA']);
    world.seed('NVDA', 80, SESSION);
    world.memo.set('ZZZZ', PREV);

    // Act
    done(await runRefreshJob(jobFor(['NVDA', 'ZZZZ']), world.deps()));

    // Assess
    expect(world.calls).toEqual(['range:ZZZZ']);
    expect(world.memo.get('ZZZZ')).toBe(SESSION);
  });

  it('records nothing while no ticker of the job shows the session is published', async () => {
    // Prepare: a job of only an unknown symbol; its empty answer proves nothing about the session.
    const world = new World(['NVDA']);

    // Act
    const outcome = done(await runRefreshJob(jobFor(['ZZZZ']), world.deps()));

    // Assess
    expect(outcome.noData).toEqual(['ZZZZ']);
    expect(world.recorded).toEqual([]);
  });

  it('plans every ticker when the memo cannot be read, and finishes when it cannot be written', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80, SESSION);
    world.memo.set('ZZZZ', SESSION);
    const deps = world.deps({
      noData: {
        known: () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
        record: () => Promise.reject(new Error('AccessDeniedException')),
      },
    });

    // Act
    const outcome = done(await runRefreshJob(jobFor(['NVDA', 'ZZZZ']), deps));

    // Assess
    expect(world.calls).toEqual(['range:ZZZZ']);
    expect(outcome.noData).toEqual(['ZZZZ']);
    expect(world.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'No-data memo unreadable; planning every ticker',
      'Tickers without data for the session',
      'No-data memo not written; a re-run will look these tickers up again',
    ]);
  });

  it('works without the memo dependencies', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80, SESSION);
    const { noData: _memo, ...deps } = world.deps();

    // Act
    const outcome = done(await runRefreshJob(jobFor(['NVDA', 'ZZZZ']), deps));

    // Assess
    expect(outcome.noData).toEqual(['ZZZZ']);
    expect(world.calls).toEqual(['range:ZZZZ']);
  });
});

describe('runRefreshJob: the splits lookup', () => {
  const withSplits = (world: World, splits: RefreshJobDeps['splits']) => world.deps({ splits });

  it('asks once for the splits since the stored rows were fetched, and re-bases a split ticker', async () => {
    // Prepare: NVDA's stored rows were fetched before its 2-for-1 executed on the session
    const world = new World(['AAPL', 'NVDA']);
    world.seed('AAPL', 80);
    world.seed('NVDA', 80);
    const storedClose = world.row('NVDA', PREV)?.price as number;
    const asked: string[] = [];
    const splits = {
      splits: async (from: string, to: string) => {
        asked.push(`${from}..${to}`);
        return [
          { ticker: 'NVDA', executionDate: SESSION, splitFrom: 1, splitTo: 2 },
          { ticker: 'TSLA', executionDate: SESSION, splitFrom: 1, splitTo: 5 },
        ];
      },
    };

    // Act
    const outcome = done(await runRefreshJob(jobFor(['AAPL', 'NVDA']), withSplits(world, splits)));

    // Assess
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/\.\.2026-11-20$/);
    expect(outcome).toMatchObject({ polygonCalls: 2, splitsApplied: 1 });
    expect(world.row('NVDA', PREV)?.price).toBeCloseTo(storedClose / 2, 9);
    expect(world.row('NVDA', SESSION)?.split).toEqual({ from: 1, to: 2 });
    expect(world.row('AAPL', SESSION)?.split).toBeUndefined();
  });

  it('defers the job when the budget has no permit for the lookup, then finishes it', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80);
    let fail = true;
    const splits = {
      splits: async () => {
        if (fail) {
          fail = false;
          throw new BudgetExhaustedError(2_000);
        }
        return [];
      },
    };

    // Act
    const first = await runRefreshJob(jobFor(['NVDA']), withSplits(world, splits));
    const resumed = await runRefreshJob(world.deferred[0].job, withSplits(world, splits));

    // Assess: every bar was fetched the first time; the resumed job only asks for the splits
    expect(first).toMatchObject({ status: 'deferred', reason: 'budget', delaySeconds: 2 });
    expect(world.calls).toEqual([`grouped:${SESSION}`]);
    expect(done(resumed)).toMatchObject({ refreshed: ['NVDA'], polygonCalls: 1 });
  });

  it('parks only the new rows when a resumed job that parks is refused the lookup, then finishes', async () => {
    // Prepare: NVDA continued, AAA new (range); the budget refuses AAA's call, then the lookup.
    const world = new World(['NVDA', 'AAA']);
    world.seed('NVDA', 80);
    world.parking = true;
    world.failures = [{ error: new BudgetExhaustedError(1_000), on: 'range:AAA' }];
    let fail = true;
    const splits = {
      splits: async () => {
        if (fail) {
          fail = false;
          throw new BudgetExhaustedError(2_000);
        }
        return [];
      },
    };

    // Act
    await runRefreshJob(jobFor(['AAA', 'NVDA']), withSplits(world, splits));
    const second = await runRefreshJob(world.deferred[0].job, withSplits(world, splits));
    const third = await runRefreshJob(world.deferred[1].job, withSplits(world, splits));

    // Assess: the second invocation parked AAA's history alone; the third wrote everything once.
    expect(second).toMatchObject({ status: 'deferred', reason: 'budget' });
    expect(world.deferred[1].job.parked).toHaveLength(2);
    expect([...world.parkedStore.values()][1].every((r) => r.ticker === 'AAA')).toBe(true);
    expect(done(third).refreshed).toEqual(['AAA', 'NVDA']);
    expect(world.puts).toHaveLength(1);
    expect(world.row('NVDA', SESSION)).toMatchObject({ rsi: expectedLast(world, 'NVDA').rsi });
    expect(world.rows('AAA').every((r) => r.indicatorVersion === 1)).toBe(true);
  });

  it('fails the job, naming the window, when the lookup fails for good', async () => {
    // Prepare
    const world = new World(['NVDA']);
    world.seed('NVDA', 80);
    const splits = {
      splits: async () => {
        throw polygonError('PolygonAuthError', 'Unknown API Key');
      },
    };

    // Act
    const run = runRefreshJob(jobFor(['NVDA']), withSplits(world, splits));

    // Assess
    await expect(run).rejects.toThrow(/Polygon splits \d{4}-\d{2}-\d{2}\.\.2026-11-20 failed/);
  });
});
