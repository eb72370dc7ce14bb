/** Text helpers every module shares: numbers in messages, errors in log lines, clipped upstream text. */

/** `12345` → `"12,345"`: counts in operator-facing messages. */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An error as one log-friendly string: `Name: message`, or the value itself. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Upstream text (error bodies, validation messages) longer than this is clipped in messages. */
export const UPSTREAM_TEXT_MAX = 300;

/**
 * `text` on one line (whitespace runs become one space, ends trimmed), clipped to `max`
 * characters with the cut marked `…`. Flattening is what both upstream clients did to the text
 * they quote (multi-line validation reports, HTML error pages), so one log line stays one line.
 */
export function clip(text: string, max = UPSTREAM_TEXT_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
