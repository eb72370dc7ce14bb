/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): a
 * uniform wait in [0, min(cap, base × 2^(attempt−1))), but never shorter than what the server
 * asked for (`Retry-After`). Unrounded; callers round to their clock's resolution.
 * @param attempt the attempt that just failed, from 1
 */
export function fullJitterDelay(opts: {
  readonly attempt: number;
  readonly baseMs: number;
  readonly capMs: number;
  readonly random: () => number;
  readonly atLeastMs?: number;
}): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** (opts.attempt - 1));
  return Math.max(opts.atLeastMs ?? 0, opts.random() * ceiling);
}
