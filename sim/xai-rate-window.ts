/**
 * xAI's per-minute limits as the simulator enforces them (SIMULATED): requests and tokens per
 * rolling 60 s. A request is admitted when both the requests and the tokens of the last 60 s,
 * its own included, stay within the limits; otherwise it is refused with the seconds until
 * enough of the window has expired (the simulator's `Retry-After`). The tokens a request
 * counts are its prompt tokens plus `max_completion_tokens` (what it may spend), as providers
 * count against a token limit before answering. Used by sim/xai-simulator.ts and by the
 * analysis bench (scripts/bench/analysis-night.ts) with the same clock.
 */
export interface XaiRateLimits {
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
}

export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly limit: 'rpm' | 'tpm'; readonly retryAfterSeconds: number };

const WINDOW_MS = 60_000;

export class XaiRateWindow {
  private readonly entries: { at: number; tokens: number }[] = [];
  private head = 0;
  private tokens = 0;

  constructor(private readonly limits: XaiRateLimits) {}

  /** Admits (and records) a request of `tokens` at `nowMs`, or says how long to wait. */
  admit(nowMs: number, tokens: number): Admission {
    this.expire(nowMs);
    const inWindow = this.entries.length - this.head;
    let limit: 'rpm' | 'tpm' | undefined;
    if (inWindow + 1 > this.limits.requestsPerMinute) limit = 'rpm';
    else if (this.tokens + tokens > this.limits.tokensPerMinute) limit = 'tpm';
    if (limit === undefined) {
      this.entries.push({ at: nowMs, tokens });
      this.tokens += tokens;
      return { ok: true };
    }
    const oldest = this.entries[this.head]?.at ?? nowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest + WINDOW_MS - nowMs) / 1000));
    return { ok: false, limit, retryAfterSeconds };
  }

  private expire(nowMs: number): void {
    while (this.head < this.entries.length && this.entries[this.head].at <= nowMs - WINDOW_MS) {
      this.tokens -= this.entries[this.head].tokens;
      this.head += 1;
    }
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
