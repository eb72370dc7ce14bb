/**
 * `npm start -- --nights N`: the argument, the night schedule (TUE–SAT 04:30 UTC, holidays
 * skipped) and the shifted clock every part of the run reads. The nights themselves run in
 * local-run.e2e.test.ts.
 */
import { latestCompletedSession } from '../../../lambdas/market-data/domain/market-calendar';
import {
  installShiftedClock,
  nextNightAt,
  type ShiftedClock,
} from '../../../scripts/lib/night-clock';
import { formatNights } from '../../../scripts/lib/nights';
import { parseLocalRunArgs } from '../../../scripts/local-run';
import { compressedClock } from '../../../sim/polygon-simulator';

describe('parseLocalRunArgs --nights', () => {
  it('defaults to one night and accepts a whole number', () => {
    expect(parseLocalRunArgs([]).nights).toBe(1);
    expect(parseLocalRunArgs(['--nights', '7']).nights).toBe(7);
  });

  it.each(['0', '-1', '2.5', 'seven', '61', ''])('refuses --nights %p', (value) => {
    expect(() => parseLocalRunArgs([`--nights=${value}`])).toThrow(
      /--nights must be a whole number/,
    );
  });
});

describe('nextNightAt', () => {
  it.each([
    ['a Monday session: Wednesday 04:30 UTC, after Tuesday', '2026-11-02', '2026-11-04T04:30:00Z'],
    ['a Friday session: Tuesday 04:30 UTC, after Monday', '2026-11-06', '2026-11-10T04:30:00Z'],
    ['Wednesday before Thanksgiving: Saturday, after Friday', '2026-11-25', '2026-11-28T04:30:00Z'],
    ['Christmas Eve: Tuesday, after Monday 28th', '2026-12-24', '2026-12-29T04:30:00Z'],
  ])('%s', (_what, session, expected) => {
    expect(new Date(nextNightAt(session)).toISOString()).toBe(
      new Date(Date.parse(expected)).toISOString(),
    );
  });

  it('lands on a night that refreshes exactly the next session (EST and EDT)', () => {
    for (const [session, next] of [
      ['2026-11-06', '2026-11-09'],
      ['2026-07-02', '2026-07-06'],
      ['2026-03-06', '2026-03-09'],
    ])
      expect(latestCompletedSession(nextNightAt(session))).toBe(next);
  });
});

describe('installShiftedClock', () => {
  let clock: ShiftedClock | undefined;
  const RealDate = Date;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('shifts Date.now and new Date() by the jump, keeps explicit dates, restores the real Date', () => {
    // Arrange
    const target = Date.parse('2031-01-07T04:30:00Z');
    clock = installShiftedClock();
    // Act
    clock.jumpTo(target);
    // Assess
    expect(Date.now() - target).toBeGreaterThanOrEqual(0);
    expect(Date.now() - target).toBeLessThan(5_000);
    expect(new Date().getTime() - target).toBeLessThan(5_000);
    expect(new Date().getTime() - target).toBeGreaterThanOrEqual(0);
    expect(Date()).toBe(new RealDate(Date.now()).toString());
    expect(new Date('2020-01-02T00:00:00Z').toISOString()).toBe('2020-01-02T00:00:00.000Z');
    expect(new Date(0).getTime()).toBe(0);
    expect(new Date() instanceof RealDate).toBe(true);
    expect(Date.UTC(2020, 0, 2)).toBe(RealDate.UTC(2020, 0, 2));
    clock.restore();
    expect(Date).toBe(RealDate);
    expect(Math.abs(Date.now() - RealDate.now())).toBeLessThan(1_000);
  });

  it('moves the Polygon simulator’s compressed clock with it (both read the same Date.now)', () => {
    // Arrange
    const sim = compressedClock(30);
    clock = installShiftedClock();
    // Act
    clock.jumpTo(Date.parse('2031-01-08T04:30:00Z'));
    // Assess: 30x compression adds at most minutes in a test, never the days of the jump.
    expect(latestCompletedSession(sim.now())).toBe('2031-01-07');
    expect(Math.abs(sim.now() - Date.now())).toBeLessThan(10 * 60_000);
  });
});

describe('formatNights', () => {
  it('lists each night with its session, outcome and evaluations', () => {
    expect(
      formatNights([
        {
          night: 1,
          at: '2026-11-03T04:30:00.000Z',
          session: '2026-11-02',
          ok: true,
          problems: [],
          evaluated: 0,
          notDue: 2,
        },
        {
          night: 6,
          at: '2026-11-10T04:30:00.000Z',
          session: '2026-11-09',
          ok: false,
          problems: ['x'],
          evaluated: 2,
          notDue: 10,
        },
      ]).slice(1),
    ).toEqual([
      '  night  1  2026-11-03T04:30Z  session 2026-11-02  OK      evaluated 0, not yet due 2',
      '  night  6  2026-11-10T04:30Z  session 2026-11-09  FAILED  evaluated 2, not yet due 10',
    ]);
  });
});
