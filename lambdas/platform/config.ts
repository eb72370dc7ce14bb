/**
 * The environment contract (SYSTEM.md), read once at cold start. A missing variable fails the
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

export interface MarketDataConfig {
  readonly tickerDataTable: string;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  readonly stateTable: string;
  readonly tickerQueueUrl: string;
  readonly polygonBaseUrl: string;
  readonly polygonRequestsPerMinute: number;
  /**
   * Length of the budget window in ms: 60000 deployed. Only a local run or test shortens it, to
   * replay a night time-compressed against a simulator scaled the same way.
   */
  readonly polygonBudgetWindowMs: number;
  /** Per-attempt Polygon timeout in ms (`POLYGON_TIMEOUT_MS`). @default 20000 */
  readonly polygonTimeoutMs: number;
}

export function marketDataConfig(env: NodeJS.ProcessEnv = process.env): MarketDataConfig {
  return {
    tickerDataTable: requireEnv('TICKER_DATA_TABLE', env),
    portfoliosTable: requireEnv('PORTFOLIOS_TABLE', env),
    positionsTable: requireEnv('POSITIONS_TABLE', env),
    stateTable: requireEnv('STATE_TABLE', env),
    tickerQueueUrl: requireEnv('SQS_QUEUE_URL', env),
    polygonBaseUrl: env.POLYGON_BASE_URL || 'https://api.polygon.io',
    polygonRequestsPerMinute: positiveIntEnv('POLYGON_REQUESTS_PER_MINUTE', 5, env),
    polygonBudgetWindowMs: positiveIntEnv('POLYGON_BUDGET_WINDOW_MS', 60_000, env),
    polygonTimeoutMs: positiveIntEnv('POLYGON_TIMEOUT_MS', 20_000, env),
  };
}
