import { normaliseTicker, tickerKey } from '../../../lambdas/platform/ticker';
import { normalizeTicker } from '../../../lambdas/analysis/domain/prompt';
import { normaliseTicker as fromEvents } from '../../../lambdas/platform/events';

describe('the one ticker rule', () => {
  it.each([
    [' nvda ', 'NVDA'],
    ['BRK.B', 'BRK.B'],
    ['rds-a', 'RDS-A'],
    ['A', 'A'],
  ])('normalises %j to %s', (raw, expected) => {
    expect(normaliseTicker(raw)).toEqual({ ok: true, ticker: expected });
    expect(tickerKey(raw)).toBe(expected);
  });

  // Upper-casing turns "ıbm" into "IBM", "straße" into "STRASSE" and "ﬀ" into "FF"; the
  // characters are checked before upper-casing, so none of them becomes someone else's ticker.
  it.each([['ıbm'], ['straße'], ['ﬀ'], ['nvdа' /* Cyrillic а */]])(
    'refuses the non-ASCII symbol %j instead of upper-casing it onto another ticker',
    (raw) => {
      expect(raw.toUpperCase()).not.toBe(raw);
      const result = normaliseTicker(raw);
      expect(result).toEqual({
        ok: false,
        reason: expect.stringContaining('is not a ticker (1-10 ASCII characters'),
      });
      expect(tickerKey(raw)).toBe('');
    },
  );

  it('refuses full-width letters too', () => {
    expect(normaliseTicker('ＮＶＤＡ').ok).toBe(false);
  });

  it('clips an echoed value to 100 characters and names a non-string', () => {
    const long = normaliseTicker('x'.repeat(5_000));
    expect(long.ok).toBe(false);
    expect(!long.ok && long.reason.length).toBeLessThan(200);
    expect(normaliseTicker(42)).toEqual({ ok: false, reason: 'not a string (42)' });
    expect(normaliseTicker(undefined)).toEqual({ ok: false, reason: 'not a string (undefined)' });
  });

  it('is the same rule in the event parsers and in the analysis prompt', () => {
    expect(fromEvents).toBe(normaliseTicker);
    for (const raw of [' msft', 'ıbm', 'BRK.B', 'TOO-LONG-TICKER', ''])
      expect(normalizeTicker(raw)).toBe(tickerKey(raw));
  });
});
