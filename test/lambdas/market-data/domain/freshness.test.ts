import { checkFreshness } from '../../../../lambdas/market-data/domain/freshness';

// The check runs at 09:00 UTC on Tue-Sat, after the 04:30 UTC refresh of the previous session.
const at = (iso: string) => Date.parse(iso);

describe('checkFreshness', () => {
  it('is fresh when the previous session was refreshed (normal Tuesday morning)', () => {
    expect(checkFreshness(at('2026-11-24T09:00:00Z'), '2026-11-23')).toEqual({
      expectedSession: '2026-11-23',
      lastRefreshedSession: '2026-11-23',
      stale: 0,
    });
  });

  it('is stale when the refresh of the previous session did not happen', () => {
    expect(checkFreshness(at('2026-11-24T09:00:00Z'), '2026-11-20').stale).toBe(1);
  });

  it('is stale when no refresh was ever recorded', () => {
    expect(checkFreshness(at('2026-11-24T09:00:00Z'), undefined).stale).toBe(1);
  });

  it('does not page on the Friday after Thanksgiving (no session on the holiday)', () => {
    // Thursday 2026-11-26 is a holiday: on Friday morning the latest session is still Wednesday.
    expect(checkFreshness(at('2026-11-27T09:00:00Z'), '2026-11-25')).toMatchObject({
      expectedSession: '2026-11-25',
      stale: 0,
    });
  });

  it('does not page on the Tuesday after a Monday holiday (Labor Day 2026-09-07)', () => {
    expect(checkFreshness(at('2026-09-08T09:00:00Z'), '2026-09-04')).toMatchObject({
      expectedSession: '2026-09-04',
      stale: 0,
    });
  });

  it('expects Friday on Saturday morning', () => {
    expect(checkFreshness(at('2026-11-21T09:00:00Z'), '2026-11-19')).toMatchObject({
      expectedSession: '2026-11-20',
      stale: 1,
    });
  });

  it.each([
    ['the Monday after DST starts', '2026-03-10T09:00:00Z', '2026-03-09'],
    ['the Monday after DST ends', '2026-11-03T09:00:00Z', '2026-11-02'],
  ])('expects the right session on %s', (_label, now, session) => {
    expect(checkFreshness(at(now), session)).toMatchObject({ expectedSession: session, stale: 0 });
  });
});
