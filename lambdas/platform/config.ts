import { normaliseTicker } from './ticker';

/**
 * Generic readers of the environment contract (SYSTEM.md), read once at cold start; each
 * feature's `config.ts` lists what its functions read. A missing variable fails the
 * first invocation with a message naming it, rather than a confusing SDK error later.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `Environment variable ${name} is not set; see README "Environment" for the contract`,
    );
  }
  return value;
}

export function positiveIntEnv(
  name: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`Environment variable ${name} must be a positive integer, got "${raw}"`);
  return n;
}

/**
 * The score track record's benchmark (`BENCHMARK_TICKER`, default `SPY`): refreshed every night
 * by processTickers and read by evaluateAnalyses. It must pass the ticker rule.
 */
export function benchmarkTickerEnv(env: NodeJS.ProcessEnv = process.env): string {
  const t = normaliseTicker(env.BENCHMARK_TICKER || 'SPY');
  if (!t.ok) throw new Error(`BENCHMARK_TICKER is not a ticker: ${t.reason}`);
  return t.ticker;
}
