import {
  checkFreshnessConfig,
  processTickerConfig,
  processTickersConfig,
} from '../../../lambdas/market-data/config';

const FULL = {
  TICKER_DATA_TABLE: 'td',
  PORTFOLIOS_TABLE: 'pf',
  POSITIONS_TABLE: 'pos',
  STATE_TABLE: 'st',
  SQS_QUEUE_URL: 'http://queue',
};

/** `env` without `name`. */
const without = (name: keyof typeof FULL, env: Record<string, string> = FULL) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => k !== name));

describe('market-data config: each function requires only what its code reads', () => {
  it('processTickers needs the portfolio tables and the queue, and the benchmark (default SPY)', () => {
    const env = { PORTFOLIOS_TABLE: 'pf', POSITIONS_TABLE: 'pos', SQS_QUEUE_URL: 'http://queue' };
    expect(processTickersConfig(env)).toEqual({
      portfoliosTable: 'pf',
      positionsTable: 'pos',
      tickerQueueUrl: 'http://queue',
      benchmarkTicker: 'SPY',
    });
    expect(processTickersConfig({ ...env, BENCHMARK_TICKER: ' qqq ' }).benchmarkTicker).toBe('QQQ');
    expect(() => processTickersConfig({ ...env, BENCHMARK_TICKER: 'S&P 500' })).toThrow(
      'BENCHMARK_TICKER',
    );
    for (const name of ['PORTFOLIOS_TABLE', 'POSITIONS_TABLE', 'SQS_QUEUE_URL'] as const)
      expect(() => processTickersConfig(without(name, env))).toThrow(name);
  });

  it('processTicker needs every table and the queue, with Polygon defaults', () => {
    expect(processTickerConfig(FULL)).toEqual({
      tickerDataTable: 'td',
      portfoliosTable: 'pf',
      positionsTable: 'pos',
      stateTable: 'st',
      tickerQueueUrl: 'http://queue',
      // The budget lives in the state table unless an account-level table is named.
      polygonBudgetTable: 'st',
      polygonBaseUrl: 'https://api.polygon.io',
      polygonRequestsPerMinute: 5,
      polygonBudgetWindowMs: 60_000,
      polygonTimeoutMs: 20_000,
    });
    for (const name of Object.keys(FULL) as (keyof typeof FULL)[])
      expect(() => processTickerConfig(without(name))).toThrow(name);
  });

  it('processTicker reads the Polygon settings it is given, and rejects a bad budget', () => {
    const env = {
      ...FULL,
      POLYGON_BASE_URL: 'http://sim',
      POLYGON_REQUESTS_PER_MINUTE: '100',
      POLYGON_BUDGET_WINDOW_MS: '1000',
      POLYGON_TIMEOUT_MS: '500',
      POLYGON_BUDGET_TABLE: 'polygon-budget',
    };
    expect(processTickerConfig(env)).toMatchObject({
      polygonBudgetTable: 'polygon-budget',
      polygonBaseUrl: 'http://sim',
      polygonRequestsPerMinute: 100,
      polygonBudgetWindowMs: 1_000,
      polygonTimeoutMs: 500,
    });
    expect(() => processTickerConfig({ ...FULL, POLYGON_REQUESTS_PER_MINUTE: '0' })).toThrow(
      'POLYGON_REQUESTS_PER_MINUTE',
    );
  });

  it('checkFreshness needs the state table only', () => {
    expect(checkFreshnessConfig({ STATE_TABLE: 'st' })).toEqual({ stateTable: 'st' });
    expect(() => checkFreshnessConfig({})).toThrow('STATE_TABLE');
  });
});
