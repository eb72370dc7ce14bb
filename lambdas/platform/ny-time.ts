/**
 * New York calendar helpers. US equity sessions are defined in America/New_York; all stored
 * instants are UTC ISO-8601 with `Z`. Pure functions: callers pass instants in.
 */

const NY = 'America/New_York';

const dateFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: NY,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

const partsFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: NY,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The New York calendar date (`YYYY-MM-DD`) of an instant given as Unix milliseconds. */
export function nyDateOf(ms: number): string {
  return dateFmt.format(new Date(ms));
}

/** Offset of New York from UTC at an instant, in minutes (−300 in winter, −240 in summer). */
export function nyOffsetMinutes(ms: number): number {
  const p = Object.fromEntries(partsFmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

/** The UTC instant of a New York wall-clock time on a date (`YYYY-MM-DD`), DST-aware. */
export function nyWallTimeToUtcMs(date: string, hour: number, minute = 0): number {
  const [y, m, d] = date.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d, hour, minute);
  // Two passes settle the offset even on DST-change days.
  let ms = guess - nyOffsetMinutes(guess) * 60000;
  ms = guess - nyOffsetMinutes(ms) * 60000;
  return ms;
}

/**
 * The deterministic `ticker-data.timestamp` of a session: its 16:00 New York close as a UTC
 * ISO-8601 instant with milliseconds and `Z` (e.g. `2026-11-20T21:00:00.000Z`). Early-close
 * days still use 16:00 so that the key depends on the date alone (SYSTEM.md).
 */
export function sessionCloseIso(date: string): string {
  return new Date(nyWallTimeToUtcMs(date, 16)).toISOString();
}
