import {
  isTradingDay,
  previousTradingDay,
  tradingDaysBack,
  tradingDaysBetween,
} from '../../../../lambdas/market-data/domain/market-calendar';
import {
  BACKFILL_SESSIONS,
  RANGE_LOOKBACK_DAYS,
  callKey,
  planRefresh,
  type StoredState,
} from '../../../../lambdas/market-data/domain/refresh-plan';

/** A Friday; the next session (Thanksgiving week) is used for the holiday case. */
const SESSION = '2026-11-20';
const PREV = previousTradingDay(SESSION);
const LOOKBACK_FROM = '2025-10-16'; // SESSION − 400 calendar days

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
const steady = (tickers: string[], last = PREV): StoredState[] =>
  tickers.map((ticker) => ({ ticker, lastSession: last, hasState: true }));
const fresh = (tickers: string[]): StoredState[] =>
  tickers.map((ticker) => ({ ticker, lastSession: SESSION, hasState: true }));
const unseen = (tickers: string[]): StoredState[] =>
  tickers.map((ticker) => ({ ticker, hasState: false }));

describe('planRefresh', () => {
  it('uses the documented lookback constants', () => {
    expect(BACKFILL_SESSIONS).toBe(110);
    expect(RANGE_LOOKBACK_DAYS).toBe(400);
    expect(
      new Date(Date.parse(`${SESSION}T00:00:00Z`) - 400 * 86_400_000).toISOString().slice(0, 10),
    ).toBe(LOOKBACK_FROM);
  });

  it.each([1, 10, 1_000, 5_000])(
    'costs exactly one grouped call on a steady-state night of %i tickers',
    (n) => {
      // Act
      const plan = planRefresh(SESSION, steady(names('S', n)));

      // Assess
      expect(plan.calls).toEqual([{ kind: 'grouped', date: SESSION }]);
      expect(plan.needs).toEqual({ fresh: 0, next: n, gap: 0, new: 0 });
      expect(plan.rebuildSince).toEqual({});
    },
  );

  it('treats the session after a holiday as the next one, not a gap', () => {
    // Prepare: Thanksgiving (Thursday 2026-11-26) is closed.
    const session = '2026-11-27';
    expect(isTradingDay('2026-11-26')).toBe(false);

    // Act
    const plan = planRefresh(session, steady(['NVDA'], '2026-11-25'));

    // Assess
    expect(plan.needs.next).toBe(1);
    expect(plan.calls).toEqual([{ kind: 'grouped', date: session }]);
  });

  it('costs nothing for tickers that already have the session (or a later one)', () => {
    // Act
    const plan = planRefresh(SESSION, [
      ...fresh(['A', 'B']),
      { ticker: 'C', lastSession: '2026-11-23', hasState: true },
    ]);

    // Assess
    expect(plan).toEqual({
      strategy: 'none',
      calls: [],
      needs: { fresh: 3, next: 0, gap: 0, new: 0 },
      alternativeCost: 0,
      rebuildSince: {},
    });
  });

  it('plans nothing for no tickers', () => {
    expect(planRefresh(SESSION, []).strategy).toBe('none');
  });

  it('adds fresh tickers to a night at no cost', () => {
    // Act
    const plan = planRefresh(SESSION, [...fresh(names('F', 500)), ...steady(['NVDA'])]);

    // Assess
    expect(plan.calls).toEqual([{ kind: 'grouped', date: SESSION }]);
    expect(plan.needs).toMatchObject({ fresh: 500, next: 1 });
  });

  it.each([1, 25, 109])(
    'fetches %i new tickers with one 400-day history call each, beside the grouped call',
    (k) => {
      // Prepare
      const newcomers = names('N', k);

      // Act
      const plan = planRefresh(SESSION, [...steady(names('S', 3_000)), ...unseen(newcomers)]);

      // Assess: 1 + k calls, the grouped one first so that it can spare history calls.
      expect(plan.strategy).toBe('range');
      expect(plan.calls).toHaveLength(1 + k);
      expect(plan.calls[0]).toEqual({ kind: 'grouped', date: SESSION });
      expect(plan.calls.slice(1)).toEqual(
        newcomers.map((ticker) => ({ kind: 'range', ticker, from: LOOKBACK_FROM, to: SESSION })),
      );
      expect(plan.rebuildSince).toEqual(
        Object.fromEntries(newcomers.map((t) => [t, LOOKBACK_FROM])),
      );
      expect(plan.alternativeCost).toBe(BACKFILL_SESSIONS);
      expect(plan.needs).toEqual({ fresh: 0, next: 3_000, gap: 0, new: k });
    },
  );

  it('breaks a tie between the strategies in favour of history calls', () => {
    // Prepare: 110 newcomers alone cost 110 history calls or 110 grouped days.
    const plan = planRefresh(SESSION, unseen(names('N', BACKFILL_SESSIONS)));

    // Assess
    expect(plan.strategy).toBe('range');
    expect(plan.calls).toHaveLength(BACKFILL_SESSIONS);
    expect(plan.alternativeCost).toBe(BACKFILL_SESSIONS);

    // And with a steady ticker: 1 + 109 = 110 = the backfill, still history calls.
    const withSteady = planRefresh(SESSION, [
      ...steady(['NVDA']),
      ...unseen(names('N', BACKFILL_SESSIONS - 1)),
    ]);
    expect(withSteady.strategy).toBe('range');
    expect(withSteady.calls).toHaveLength(BACKFILL_SESSIONS);
  });

  it.each([BACKFILL_SESSIONS + 1, 1_000, 10_000])(
    'backfills %i new tickers with at most 110 grouped calls, oldest first',
    (k) => {
      // Prepare
      const newcomers = names('N', k);

      // Act
      const plan = planRefresh(SESSION, [...steady(names('S', 50)), ...unseen(newcomers)]);

      // Assess
      const days = tradingDaysBack(SESSION, BACKFILL_SESSIONS);
      expect(plan.strategy).toBe('grouped');
      expect(plan.calls).toEqual(days.map((date) => ({ kind: 'grouped', date })));
      expect(plan.calls.length).toBeLessThanOrEqual(BACKFILL_SESSIONS);
      expect(days.every(isTradingDay)).toBe(true);
      expect(days[days.length - 1]).toBe(SESSION);
      expect(plan.alternativeCost).toBe(1 + k);
      expect(plan.rebuildSince).toEqual(Object.fromEntries(newcomers.map((t) => [t, days[0]])));
    },
  );

  it('fills a short gap with one history call from the last stored session', () => {
    // Prepare: three sessions missing.
    const last = tradingDaysBack(SESSION, 4)[0];

    // Act
    const plan = planRefresh(SESSION, steady(['GAP'], last));

    // Assess: 1 history call beats 3 grouped days; the gap ticker is continued, not rebuilt.
    expect(plan.needs.gap).toBe(1);
    expect(plan.calls).toEqual([{ kind: 'range', ticker: 'GAP', from: last, to: SESSION }]);
    expect(plan.alternativeCost).toBe(3);
    expect(plan.rebuildSince).toEqual({});
  });

  it('fills the gaps of many tickers with the grouped days they lack', () => {
    // Prepare: 40 tickers three sessions behind, 10 one session behind.
    const last = tradingDaysBack(SESSION, 4)[0];

    // Act
    const plan = planRefresh(SESSION, [...steady(names('G', 40), last), ...steady(names('S', 10))]);

    // Assess
    expect(plan.strategy).toBe('grouped');
    expect(plan.calls.map(callKey)).toEqual(
      tradingDaysBetween(last, SESSION).map((d) => `grouped:${d}`),
    );
    expect(plan.needs).toMatchObject({ gap: 40, next: 10 });
    expect(plan.rebuildSince).toEqual({});
  });

  it('rebuilds a ticker that is more than 110 sessions behind, or whose row has no Wilder state', () => {
    // Act
    const plan = planRefresh(SESSION, [
      { ticker: 'OLD', lastSession: tradingDaysBack(SESSION, 112)[0], hasState: true },
      { ticker: 'RAW', lastSession: PREV, hasState: false },
      { ticker: 'EDGE', lastSession: tradingDaysBack(SESSION, 111)[0], hasState: true },
    ]);

    // Assess: exactly 110 sessions behind is still a gap.
    expect(plan.needs).toEqual({ fresh: 0, next: 0, gap: 1, new: 2 });
    expect(plan.strategy).toBe('range');
    expect(plan.rebuildSince).toEqual({ OLD: LOOKBACK_FROM, RAW: LOOKBACK_FROM });
    expect(plan.calls).toContainEqual({
      kind: 'range',
      ticker: 'EDGE',
      from: tradingDaysBack(SESSION, 111)[0],
      to: SESSION,
    });
  });

  it('is deterministic: the same input gives the same plan', () => {
    const states = [...steady(names('S', 20)), ...unseen(names('N', 5))];
    expect(planRefresh(SESSION, states)).toEqual(planRefresh(SESSION, [...states]));
  });
});

describe('callKey', () => {
  it('names grouped calls by date and history calls by ticker', () => {
    expect(callKey({ kind: 'grouped', date: SESSION })).toBe(`grouped:${SESSION}`);
    expect(callKey({ kind: 'range', ticker: 'NVDA', from: PREV, to: SESSION })).toBe('range:NVDA');
  });
});
