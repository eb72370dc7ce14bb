import { fullJitterDelay } from '../../../lambdas/platform/backoff';

describe('fullJitterDelay', () => {
  it('scales a uniform draw by the exponential ceiling', () => {
    expect(fullJitterDelay({ attempt: 1, baseMs: 500, capMs: 20_000, random: () => 0.5 })).toBe(
      250,
    );
    expect(fullJitterDelay({ attempt: 3, baseMs: 500, capMs: 20_000, random: () => 0.5 })).toBe(
      1_000,
    );
  });

  it('never exceeds the cap', () => {
    expect(
      fullJitterDelay({ attempt: 30, baseMs: 500, capMs: 20_000, random: () => 0.999 }),
    ).toBeLessThan(20_000);
  });

  it('waits at least what the server asked for', () => {
    expect(
      fullJitterDelay({
        attempt: 1,
        baseMs: 500,
        capMs: 20_000,
        random: () => 0.1,
        atLeastMs: 7_000,
      }),
    ).toBe(7_000);
    expect(
      fullJitterDelay({
        attempt: 1,
        baseMs: 500,
        capMs: 20_000,
        random: () => 0,
        atLeastMs: undefined,
      }),
    ).toBe(0);
  });
});
