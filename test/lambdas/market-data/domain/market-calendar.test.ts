import {
  NYSE_SPECIAL_CLOSURES,
  easterSunday,
  isTradingDay,
  latestCompletedSession,
  nextTradingDay,
  nyseHolidays,
  previousTradingDay,
  tradingDaysBack,
  tradingDaysBetween,
} from '../../../../lambdas/market-data/domain/market-calendar';

const datesOf = (year: number): string[] => nyseHolidays(year).map((h) => h.date);

describe('nyseHolidays', () => {
  // NYSE Group press release of 2024-11-08, "NYSE Group Announces 2025, 2026 and 2027 Holiday
  // and Early Closings Calendar"; 2025-01-09 added on 2024-12-30 (day of mourning, Carter).
  it('returns the published 2026 NYSE holidays', () => {
    // Prepare
    const published = [
      '2026-01-01',
      '2026-01-19',
      '2026-02-16',
      '2026-04-03',
      '2026-05-25',
      '2026-06-19',
      '2026-07-03',
      '2026-09-07',
      '2026-11-26',
      '2026-12-25',
    ];

    // Act
    const holidays = nyseHolidays(2026);

    // Assess
    expect(holidays.map((h) => h.date)).toEqual(published);
    expect(holidays[3].name).toBe('Good Friday');
    expect(holidays[6].name).toBe('Independence Day (observed)');
  });

  it('returns the published 2025 NYSE holidays including the Carter day of mourning', () => {
    // Prepare
    const published = [
      '2025-01-01',
      '2025-01-09',
      '2025-01-20',
      '2025-02-17',
      '2025-04-18',
      '2025-05-26',
      '2025-06-19',
      '2025-07-04',
      '2025-09-01',
      '2025-11-27',
      '2025-12-25',
    ];

    // Act
    const dates = datesOf(2025);

    // Assess
    expect(dates).toEqual(published);
  });

  it('returns the published 2027 NYSE holidays with Saturday and Sunday observances', () => {
    // Prepare
    const published = [
      '2027-01-01',
      '2027-01-18',
      '2027-02-15',
      '2027-03-26',
      '2027-05-31',
      '2027-06-18',
      '2027-07-05',
      '2027-09-06',
      '2027-11-25',
      '2027-12-24',
    ];

    // Act
    const dates = datesOf(2027);

    // Assess
    expect(dates).toEqual(published);
  });

  it('omits New Year on a Saturday and observes Sunday holidays on Monday (2022)', () => {
    // Prepare
    const published = [
      '2022-01-17',
      '2022-02-21',
      '2022-04-15',
      '2022-05-30',
      '2022-06-20',
      '2022-07-04',
      '2022-09-05',
      '2022-11-24',
      '2022-12-26',
    ];

    // Act
    const dates = datesOf(2022);

    // Assess
    expect(dates).toEqual(published);
  });

  it('returns the published 2012, 2015 and 2016 holidays, including Hurricane Sandy', () => {
    // Prepare
    const published = {
      2012: [
        '01-02',
        '01-16',
        '02-20',
        '04-06',
        '05-28',
        '07-04',
        '09-03',
        '10-29',
        '10-30',
        '11-22',
        '12-25',
      ],
      2015: ['01-01', '01-19', '02-16', '04-03', '05-25', '07-03', '09-07', '11-26', '12-25'],
      2016: ['01-01', '01-18', '02-15', '03-25', '05-30', '07-04', '09-05', '11-24', '12-26'],
    };

    // Act
    const actual = Object.keys(published).map((year) => datesOf(Number(year)));

    // Assess
    expect(actual).toEqual(
      Object.entries(published).map(([year, days]) => days.map((d) => `${year}-${d}`)),
    );
  });

  it('has no Juneteenth before 2022', () => {
    // Prepare
    const year = 2021;

    // Act
    const names = nyseHolidays(year).map((h) => h.name);

    // Assess
    expect(names.some((n) => n.startsWith('Juneteenth'))).toBe(false);
    expect(names).toHaveLength(9);
  });

  it('lists only weekdays and every special closure in its year', () => {
    // Prepare
    const years = Array.from({ length: 2040 - 1998 }, (_, i) => 1998 + i);

    // Act
    const all = years.flatMap((y) => nyseHolidays(y));

    // Assess
    all.forEach((h) =>
      expect([1, 2, 3, 4, 5]).toContain(new Date(`${h.date}T12:00:00Z`).getUTCDay()),
    );
    NYSE_SPECIAL_CLOSURES.forEach((c) => expect(all).toContainEqual(c));
  });

  it('rejects years before the rules apply', () => {
    // Prepare
    const year = 1997;

    // Act
    const act = () => nyseHolidays(year);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('easterSunday', () => {
  it('returns known Easter dates including the earliest and latest possible', () => {
    // Prepare
    const known: Record<number, string> = {
      2000: '2000-04-23',
      2008: '2008-03-23',
      2011: '2011-04-24',
      2024: '2024-03-31',
      2025: '2025-04-20',
      2026: '2026-04-05',
      2027: '2027-03-28',
      2038: '2038-04-25',
      2285: '2285-03-22',
    };

    // Act
    const actual = Object.keys(known).map((y) => easterSunday(Number(y)));

    // Assess
    expect(actual).toEqual(Object.values(known));
  });
});

describe('isTradingDay', () => {
  it.each([
    { outcome: 'returns true for an ordinary weekday', date: '2026-03-04', expected: true },
    { outcome: 'returns false on a Saturday', date: '2026-03-07', expected: false },
    { outcome: 'returns false on a Sunday', date: '2026-03-08', expected: false },
    { outcome: 'returns false on Good Friday', date: '2026-04-03', expected: false },
    { outcome: 'returns false on an observed holiday', date: '2026-07-03', expected: false },
    { outcome: 'returns false on a special closure', date: '2025-01-09', expected: false },
    {
      outcome: 'keeps Friday 2021-12-31 open before a Saturday New Year',
      date: '2021-12-31',
      expected: true,
    },
    {
      outcome: 'keeps Monday 2022-01-03 open after a Saturday New Year',
      date: '2022-01-03',
      expected: true,
    },
  ])('$outcome', ({ date, expected }) => {
    // Prepare
    const day = date;

    // Act
    const open = isTradingDay(day);

    // Assess
    expect(open).toBe(expected);
  });

  it('counts 250 trading days in 2025 and 251 in 2026', () => {
    // Prepare
    const ranges: Array<[string, string]> = [
      ['2024-12-31', '2025-12-31'],
      ['2025-12-31', '2026-12-31'],
    ];

    // Act
    const counts = ranges.map(([from, to]) => tradingDaysBetween(from, to).length);

    // Assess
    expect(counts).toEqual([250, 251]);
  });

  it('rejects a malformed or impossible date', () => {
    // Prepare
    const bad = ['2026-02-30', '2026-3-04', '20260304', '2026-13-01', ''];

    // Act
    const acts = bad.map((d) => () => isTradingDay(d));

    // Assess
    acts.forEach((act) => expect(act).toThrow(RangeError));
  });
});

describe('previousTradingDay and nextTradingDay', () => {
  it.each([
    {
      outcome: 'skips the Good Friday long weekend',
      date: '2026-04-06',
      previous: '2026-04-02',
      next: '2026-04-07',
    },
    {
      outcome: 'skips the Good Friday long weekend forwards',
      date: '2026-04-02',
      previous: '2026-04-01',
      next: '2026-04-06',
    },
    {
      outcome: 'crosses a year boundary past a Friday New Year',
      date: '2026-12-31',
      previous: '2026-12-30',
      next: '2027-01-04',
    },
    {
      outcome: 'returns the adjacent weekdays on an ordinary day',
      date: '2026-03-04',
      previous: '2026-03-03',
      next: '2026-03-05',
    },
    {
      outcome: 'works from a non-trading date',
      date: '2026-03-08',
      previous: '2026-03-06',
      next: '2026-03-09',
    },
  ])('$outcome', ({ date, previous, next }) => {
    // Prepare
    const day = date;

    // Act
    const actual = [previousTradingDay(day), nextTradingDay(day)];

    // Assess
    expect(actual).toEqual([previous, next]);
  });
});

describe('tradingDaysBetween', () => {
  it('lists the trading days after the start up to and including the end', () => {
    // Prepare
    const [from, to] = ['2026-03-27', '2026-04-07'];

    // Act
    const days = tradingDaysBetween(from, to);

    // Assess
    expect(days).toEqual([
      '2026-03-30',
      '2026-03-31',
      '2026-04-01',
      '2026-04-02',
      '2026-04-06',
      '2026-04-07',
    ]);
  });

  it('returns an empty list when no trading day lies after the start up to the end', () => {
    // Prepare
    const ranges: Array<[string, string]> = [
      ['2026-03-04', '2026-03-04'],
      ['2026-03-05', '2026-03-04'],
      ['2026-04-02', '2026-04-05'],
    ];

    // Act
    const actual = ranges.map(([from, to]) => tradingDaysBetween(from, to));

    // Assess
    expect(actual).toEqual([[], [], []]);
  });
});

describe('tradingDaysBack', () => {
  it('returns the n trading days ending at a trading date, ascending', () => {
    // Prepare
    const [date, n] = ['2026-04-07', 3];

    // Act
    const days = tradingDaysBack(date, n);

    // Assess
    expect(days).toEqual(['2026-04-02', '2026-04-06', '2026-04-07']);
  });

  it('ends at the last trading day before a non-trading date', () => {
    // Prepare
    const [date, n] = ['2026-04-05', 2];

    // Act
    const days = tradingDaysBack(date, n);

    // Assess
    expect(days).toEqual(['2026-04-01', '2026-04-02']);
  });

  it('returns an empty list for n = 0 and rejects a negative or fractional n', () => {
    // Prepare
    const date = '2026-04-07';

    // Act
    const empty = tradingDaysBack(date, 0);

    // Assess
    expect(empty).toEqual([]);
    expect(() => tradingDaysBack(date, -1)).toThrow(RangeError);
    expect(() => tradingDaysBack(date, 1.5)).toThrow(RangeError);
  });

  it('agrees with tradingDaysBetween over a year of sessions', () => {
    // Prepare
    const year = tradingDaysBetween('2025-12-31', '2026-12-31');

    // Act
    const back = tradingDaysBack('2026-12-31', year.length);

    // Assess
    expect(back).toEqual(year);
  });
});

describe('latestCompletedSession', () => {
  it.each([
    {
      outcome: 'returns the previous session 1 ms before a normal close',
      now: '2026-03-04T20:59:59.999Z',
      delay: 0,
      expected: '2026-03-03',
    },
    {
      outcome: 'returns the same day exactly at the 16:00 close',
      now: '2026-03-04T21:00:00.000Z',
      delay: 0,
      expected: '2026-03-04',
    },
    {
      outcome: 'returns the previous session within the publish delay',
      now: '2026-03-04T21:29:59.999Z',
      delay: 30,
      expected: '2026-03-03',
    },
    {
      outcome: 'returns the same day once the publish delay has passed',
      now: '2026-03-04T21:30:00.000Z',
      delay: 30,
      expected: '2026-03-04',
    },
    {
      outcome: "returns Monday's session for the 04:30 UTC Tuesday run in summer",
      now: '2026-06-16T04:30:00.000Z',
      delay: 0,
      expected: '2026-06-15',
    },
    {
      outcome: "returns Monday's session for the 04:30 UTC Tuesday run in winter",
      now: '2026-01-13T04:30:00.000Z',
      delay: 0,
      expected: '2026-01-12',
    },
    {
      outcome: 'returns the session before a holiday when run on the holiday',
      now: '2026-05-25T22:00:00.000Z',
      delay: 0,
      expected: '2026-05-22',
    },
    {
      outcome: 'returns Thursday for the Saturday run after Good Friday',
      now: '2026-04-04T04:30:00.000Z',
      delay: 0,
      expected: '2026-04-02',
    },
    {
      outcome: 'returns Thursday on the Monday after Good Friday before the close',
      now: '2026-04-06T15:00:00.000Z',
      delay: 0,
      expected: '2026-04-02',
    },
    {
      outcome: "returns Monday's session for the Tuesday run after Good Friday",
      now: '2026-04-07T04:30:00.000Z',
      delay: 0,
      expected: '2026-04-06',
    },
    {
      outcome: 'returns Friday on a weekend',
      now: '2026-03-08T12:00:00.000Z',
      delay: 0,
      expected: '2026-03-06',
    },
    {
      outcome: 'returns Friday 2021-12-31 on a Saturday New Year',
      now: '2022-01-01T12:00:00.000Z',
      delay: 0,
      expected: '2021-12-31',
    },
    {
      outcome: 'keeps Friday 1 ms before the first EDT close (20:00 UTC) after 2026-03-08',
      now: '2026-03-09T19:59:59.999Z',
      delay: 0,
      expected: '2026-03-06',
    },
    {
      outcome: 'returns Monday at 20:00 UTC after the 2026-03-08 spring-forward',
      now: '2026-03-09T20:00:00.000Z',
      delay: 0,
      expected: '2026-03-09',
    },
    {
      outcome: 'returns Monday for the Tuesday run after the spring-forward',
      now: '2026-03-10T04:30:00.000Z',
      delay: 0,
      expected: '2026-03-09',
    },
    {
      outcome: 'closes at 20:00 UTC on the Friday before the 2026-11-01 fall-back',
      now: '2026-10-30T20:00:00.000Z',
      delay: 0,
      expected: '2026-10-30',
    },
    {
      outcome: 'keeps Friday at 20:30 UTC on the Monday after the fall-back',
      now: '2026-11-02T20:30:00.000Z',
      delay: 0,
      expected: '2026-10-30',
    },
    {
      outcome: 'returns Monday at 21:00 UTC after the fall-back',
      now: '2026-11-02T21:00:00.000Z',
      delay: 0,
      expected: '2026-11-02',
    },
    {
      outcome: 'returns Monday for the Tuesday run after the fall-back',
      now: '2026-11-03T04:30:00.000Z',
      delay: 0,
      expected: '2026-11-02',
    },
    {
      outcome: 'treats an early-close day as open until 16:00',
      now: '2026-11-27T19:00:00.000Z',
      delay: 0,
      expected: '2026-11-25',
    },
    {
      outcome: 'completes an early-close day at 16:00',
      now: '2026-11-27T21:00:00.000Z',
      delay: 0,
      expected: '2026-11-27',
    },
  ])('$outcome', ({ now, delay, expected }) => {
    // Prepare
    const nowMs = Date.parse(now);

    // Act
    const session = latestCompletedSession(nowMs, delay);

    // Assess
    expect(session).toBe(expected);
  });

  it('rejects a non-finite instant or a negative delay', () => {
    // Prepare
    const nowMs = Date.parse('2026-03-04T21:00:00.000Z');

    // Act
    const acts = [
      () => latestCompletedSession(Number.NaN),
      () => latestCompletedSession(nowMs, -1),
    ];

    // Assess
    acts.forEach((act) => expect(act).toThrow(RangeError));
  });
});
