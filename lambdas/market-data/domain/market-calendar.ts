/**
 * US equity (NYSE) trading calendar. Dates are New York calendar dates as `YYYY-MM-DD`.
 * Regular holidays are computed by rule for any year from {@link FIRST_SUPPORTED_YEAR} on;
 * unscheduled closures (national days of mourning, emergencies) cannot be derived and are listed
 * in {@link NYSE_SPECIAL_CLOSURES}. Early-close days (13:00) count as full trading days.
 * Pure functions: callers pass instants in.
 */

import { nyDateOf, nyWallTimeToUtcMs } from '../../platform/ny-time';

/** A day the NYSE is closed on a weekday. */
export interface MarketHoliday {
  /** `YYYY-MM-DD` (New York). */
  readonly date: string;
  /** The holiday's name, with "(observed)" when moved off a weekend. */
  readonly name: string;
}

/** First year the rules hold: the NYSE first closed for Martin Luther King Jr. Day in 1998. */
export const FIRST_SUPPORTED_YEAR = 1998;

/** Session close in New York (hour), used for every session including early-close days. */
const CLOSE_HOUR_NY = 16;

/**
 * Full-day NYSE closures that no rule predicts, since {@link FIRST_SUPPORTED_YEAR}. Add new ones
 * here when the exchange announces them.
 */
export const NYSE_SPECIAL_CLOSURES: readonly MarketHoliday[] = [
  { date: '2001-09-11', name: 'September 11 attacks' },
  { date: '2001-09-12', name: 'September 11 attacks' },
  { date: '2001-09-13', name: 'September 11 attacks' },
  { date: '2001-09-14', name: 'September 11 attacks' },
  { date: '2004-06-11', name: 'National Day of Mourning (Ronald Reagan)' },
  { date: '2007-01-02', name: 'National Day of Mourning (Gerald Ford)' },
  { date: '2012-10-29', name: 'Hurricane Sandy' },
  { date: '2012-10-30', name: 'Hurricane Sandy' },
  { date: '2018-12-05', name: 'National Day of Mourning (George H. W. Bush)' },
  { date: '2025-01-09', name: 'National Day of Mourning (Jimmy Carter)' },
];

const DAY_MS = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a validated `YYYY-MM-DD`. */
function dayNumber(date: string): number {
  const match = DATE_PATTERN.exec(date);
  const ms = match ? Date.UTC(+match[1], +match[2] - 1, +match[3]) : Number.NaN;
  if (!match || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`not a calendar date (YYYY-MM-DD): ${date}`);
  }
  return ms / DAY_MS;
}

function dateOfDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function ymd(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** 0 = Sunday … 6 = Saturday. */
function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = ymd(year, month, 1);
  return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
}

function lastWeekday(year: number, month: number, weekday: number): number {
  const last = ymd(year, month + 1, 0);
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/** Saturday → Friday before, Sunday → Monday after (NYSE Rule 7.2, "Holidays"). */
function observed(day: number, name: string): MarketHoliday {
  const weekday = weekdayOf(day);
  if (weekday === 6) return { date: dateOfDayNumber(day - 1), name: `${name} (observed)` };
  if (weekday === 0) return { date: dateOfDayNumber(day + 1), name: `${name} (observed)` };
  return { date: dateOfDayNumber(day), name };
}

/** Easter Sunday (`YYYY-MM-DD`) in the Gregorian calendar (anonymous Gregorian algorithm). */
export function easterSunday(year: number): string {
  if (!Number.isInteger(year) || year < 1583 || year > 9999) {
    throw new RangeError(`year must be a Gregorian year from 1583 to 9999, got ${year}`);
  }
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dateOfDayNumber(ymd(year, month, day));
}

function assertYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_SUPPORTED_YEAR || year > 9999) {
    throw new RangeError(
      `year must be an integer from ${FIRST_SUPPORTED_YEAR} to 9999, got ${year}`,
    );
  }
}

const holidayCache = new Map<number, ReadonlyMap<string, string>>();

function holidayMap(year: number): ReadonlyMap<string, string> {
  let map = holidayCache.get(year);
  if (!map) {
    assertYear(year);
    const MONDAY = 1;
    const THURSDAY = 4;
    const rules: MarketHoliday[] = [];
    // Rule 7.2 keeps the exchange open on a Friday that ends an accounting period, so a Saturday
    // New Year's Day is not observed on December 31.
    if (weekdayOf(ymd(year, 1, 1)) !== 6) rules.push(observed(ymd(year, 1, 1), "New Year's Day"));
    rules.push(
      {
        date: dateOfDayNumber(nthWeekday(year, 1, MONDAY, 3)),
        name: 'Martin Luther King, Jr. Day',
      },
      { date: dateOfDayNumber(nthWeekday(year, 2, MONDAY, 3)), name: "Washington's Birthday" },
      { date: dateOfDayNumber(dayNumber(easterSunday(year)) - 2), name: 'Good Friday' },
      { date: dateOfDayNumber(lastWeekday(year, 5, MONDAY)), name: 'Memorial Day' },
    );
    if (year >= 2022)
      rules.push(observed(ymd(year, 6, 19), 'Juneteenth National Independence Day'));
    rules.push(
      observed(ymd(year, 7, 4), 'Independence Day'),
      { date: dateOfDayNumber(nthWeekday(year, 9, MONDAY, 1)), name: 'Labor Day' },
      { date: dateOfDayNumber(nthWeekday(year, 11, THURSDAY, 4)), name: 'Thanksgiving Day' },
      observed(ymd(year, 12, 25), 'Christmas Day'),
    );
    const special = NYSE_SPECIAL_CLOSURES.filter((h) => h.date.startsWith(`${year}-`));
    map = new Map(
      [...rules, ...special]
        .sort((x, y) => x.date.localeCompare(y.date))
        .map((h) => [h.date, h.name]),
    );
    holidayCache.set(year, map);
  }
  return map;
}

/**
 * The weekdays of a year on which the NYSE is closed all day, in date order: the rule-based
 * holidays (observed dates) and any {@link NYSE_SPECIAL_CLOSURES}.
 *
 * @throws RangeError for a year before {@link FIRST_SUPPORTED_YEAR}
 */
export function nyseHolidays(year: number): MarketHoliday[] {
  return [...holidayMap(year)].map(([date, name]) => ({ date, name }));
}

function isTradingDayNumber(day: number): boolean {
  const weekday = weekdayOf(day);
  if (weekday === 0 || weekday === 6) return false;
  const date = dateOfDayNumber(day);
  return !holidayMap(Number(date.slice(0, 4))).has(date);
}

/** Whether the NYSE holds a regular session on a date (`YYYY-MM-DD`). */
export function isTradingDay(date: string): boolean {
  return isTradingDayNumber(dayNumber(date));
}

/** The last trading day strictly before a date. */
export function previousTradingDay(date: string): string {
  let day = dayNumber(date) - 1;
  while (!isTradingDayNumber(day)) day--;
  return dateOfDayNumber(day);
}

/** The first trading day strictly after a date. */
export function nextTradingDay(date: string): string {
  let day = dayNumber(date) + 1;
  while (!isTradingDayNumber(day)) day++;
  return dateOfDayNumber(day);
}

/**
 * The trading days after `fromExclusive` up to and including `toInclusive`, ascending; empty when
 * `toInclusive` is not after `fromExclusive`.
 */
export function tradingDaysBetween(fromExclusive: string, toInclusive: string): string[] {
  const days: string[] = [];
  const last = dayNumber(toInclusive);
  for (let day = dayNumber(fromExclusive) + 1; day <= last; day++) {
    if (isTradingDayNumber(day)) days.push(dateOfDayNumber(day));
  }
  return days;
}

/**
 * The `n` most recent trading days on or before a date, ascending (the date itself is the last
 * element when it is a trading day).
 */
export function tradingDaysBack(date: string, n: number): string[] {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const days: string[] = [];
  let day = dayNumber(date);
  while (days.length < n) {
    if (isTradingDayNumber(day)) days.push(dateOfDayNumber(day));
    day--;
  }
  return days.reverse();
}

/**
 * The latest trading day whose 16:00 New York close plus `publishDelayMinutes` is at or before
 * `nowMs`. Early-close days also count from 16:00, matching `sessionCloseIso`.
 *
 * @param nowMs - the current instant, Unix milliseconds
 * @param publishDelayMinutes - how long after the close the day's data is considered final
 * @defaultValue publishDelayMinutes 0
 */
export function latestCompletedSession(nowMs: number, publishDelayMinutes = 0): string {
  if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be a finite number, got ${nowMs}`);
  if (!Number.isFinite(publishDelayMinutes) || publishDelayMinutes < 0) {
    throw new RangeError(
      `publishDelayMinutes must be a non-negative number, got ${publishDelayMinutes}`,
    );
  }
  const today = nyDateOf(nowMs);
  let session = isTradingDay(today) ? today : previousTradingDay(today);
  while (nyWallTimeToUtcMs(session, CLOSE_HOUR_NY) + publishDelayMinutes * 60_000 > nowMs) {
    session = previousTradingDay(session);
  }
  return session;
}
