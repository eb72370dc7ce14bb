/**
 * Powertools JSON log lines as one readable line each (`npm run logs`): time, level, message and
 * the keys an operator looks for; Lambda's own lines (START, END, REPORT) as they are.
 */

/** One log event as CloudWatch Logs returns it (FilterLogEvents or a live tail update). */
export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
  /** The function (or log group) it came from, shown when several are interleaved. */
  readonly source?: string;
}

/** The keys shown after the message, in this order, when a line has them. */
const USEFUL_KEYS = [
  'ticker',
  'tickers',
  'portfolioId',
  'portfolio_id',
  'session',
  'dataAsOf',
  'refreshed',
  'alreadyFresh',
  'noData',
  'model',
  'messageId',
  'correlation_id',
] as const;

/** Levels by severity, for `--level` (a level shows itself and everything more severe). */
export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

const COLOURS: Record<string, string> = {
  DEBUG: '\x1b[90m',
  INFO: '\x1b[0m',
  WARN: '\x1b[33m',
  ERROR: '\x1b[31m',
  CRITICAL: '\x1b[41;97m',
};
const RESET = '\x1b[0m';

/** A Powertools record, or undefined for a line that is not a JSON object. */
export function parseRecord(message: string): Record<string, unknown> | undefined {
  const text = message.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The level of a line: the record's, or none for Lambda's own lines. */
export function levelOf(message: string): string | undefined {
  const level = parseRecord(message)?.level;
  return typeof level === 'string' ? level.toUpperCase() : undefined;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (Array.isArray(v)) return v.length > 5 ? `[${v.slice(0, 5).join(',')},…]` : `[${v.join(',')}]`;
  return JSON.stringify(v);
}

/** The error of a record (Powertools logs an Error as an object with name and message). */
function errorText(e: unknown): string | undefined {
  if (e === undefined || e === null) return undefined;
  if (typeof e === 'string') return e;
  if (typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : 'Error';
    return typeof o.message === 'string' ? `${name}: ${o.message}` : JSON.stringify(e);
  }
  return JSON.stringify(e);
}

/** `2026-12-01 04:30:01.123Z` (UTC, like the schedules). */
const timeText = (ms: number) => new Date(ms).toISOString().replace('T', ' ');

/** One event as one line; `colour` adds the level's ANSI colour (for a terminal). */
export function formatLogEvent(event: LogEvent, opts: { readonly colour: boolean }): string {
  const source = event.source ? `${event.source} ` : '';
  const record = parseRecord(event.message);
  if (!record) return `${timeText(event.timestamp)} ${source}${event.message.trimEnd()}`;
  const level = typeof record.level === 'string' ? record.level.toUpperCase() : '-';
  const keys = USEFUL_KEYS.filter((k) => record[k] !== undefined).map(
    (k) => `${k}=${valueText(record[k])}`,
  );
  const error = errorText(record.error);
  if (error) keys.push(`error=${JSON.stringify(error)}`);
  const line = `${timeText(event.timestamp)} ${source}${level.padEnd(5)} ${typeof record.message === 'string' ? record.message : JSON.stringify(record.message ?? '')}${keys.length > 0 ? `  ${keys.join(' ')}` : ''}`;
  const colour = opts.colour ? COLOURS[level] : undefined;
  return colour ? `${colour}${line}${RESET}` : line;
}

/** What `npm run logs` filters on (all optional; all must hold). */
export interface LogFilter {
  readonly level?: Level;
  readonly correlationId?: string;
  readonly grep?: string;
}

const levelsFrom = (level: Level) => LEVELS.slice(LEVELS.indexOf(level));

/**
 * The CloudWatch Logs filter pattern of a filter, so the service sends only what is asked for:
 * a JSON pattern for the level and correlation id, or a quoted term for `--grep` alone (the two
 * kinds cannot be combined in one pattern; `matches` applies `--grep` on this side then).
 */
export function filterPattern(f: LogFilter): string | undefined {
  const terms: string[] = [];
  if (f.level && f.level !== 'DEBUG')
    terms.push(
      `(${levelsFrom(f.level)
        .map((l) => `$.level = "${l}"`)
        .join(' || ')})`,
    );
  if (f.correlationId) terms.push(`$.correlation_id = "${f.correlationId.replace(/"/g, '')}"`);
  if (terms.length > 0) return `{ ${terms.join(' && ')} }`;
  if (f.grep) return `"${f.grep.replace(/"/g, '')}"`;
  return undefined;
}

/** Whether an event passes the filter (applied to every event, whatever the service did). */
export function matches(event: LogEvent, f: LogFilter): boolean {
  // Case-sensitive, as CloudWatch's own term matching is.
  if (f.grep && !event.message.includes(f.grep)) return false;
  if (!f.level && !f.correlationId) return true;
  const record = parseRecord(event.message);
  if (!record) return false;
  if (f.level) {
    const level = typeof record.level === 'string' ? record.level.toUpperCase() : '';
    if (!(levelsFrom(f.level) as readonly string[]).includes(level)) return false;
  }
  return !f.correlationId || record.correlation_id === f.correlationId;
}
