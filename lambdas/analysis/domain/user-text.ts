/**
 * The rules for user-controlled text on its way into the prompt and into error messages: the
 * portfolio API's data is not ours, and its strings reach Grok. Pure.
 */

/** Most characters of a portfolio name as sent to Grok and stored with the analysis. */
export const MAX_PORTFOLIO_NAME_CHARS = 100;

/**
 * Most holdings (distinct tickers) of one analysis: 90. The completion budget grows 150 tokens a
 * ticker from 2,000 and stops at 16,000 (analysis-row.ts), so 90 holdings (15,500 tokens) is the
 * most whose answer still has its full room; a larger portfolio is refused with an error saying
 * so, never truncated to its first 90 holdings.
 */
export const MAX_HOLDINGS_PER_ANALYSIS = 90;

/** Most characters of a value echoed in an error or log message. */
export const MAX_ECHO_CHARS = 100;

// Control and format characters (newlines, tabs, bidi overrides, zero-width) and the Unicode
// line and paragraph separators: a name is one line of data, never a new instruction line.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * A portfolio name fit for the prompt: control and format characters become spaces, whitespace
 * runs one space, ends trimmed, and at most {@link MAX_PORTFOLIO_NAME_CHARS} characters (cut
 * marked `…`). Characters are code points, so an emoji is never split.
 */
export function cleanPortfolioName(name: unknown): string {
  const text = typeof name === 'string' ? name : '';
  const flat = text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > MAX_PORTFOLIO_NAME_CHARS
    ? `${chars.slice(0, MAX_PORTFOLIO_NAME_CHARS - 1).join('')}…`
    : flat;
}

/**
 * A value as an error message quotes it: JSON-quoted, on one line, control characters escaped,
 * at most {@link MAX_ECHO_CHARS} characters of it (cut marked `…`).
 */
export function echo(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const chars = [...text];
  const clipped =
    chars.length > MAX_ECHO_CHARS ? `${chars.slice(0, MAX_ECHO_CHARS).join('')}…` : text;
  return JSON.stringify(clipped);
}
