import { createAnalyzePortfoliosDeps } from '../../../lambdas/analysis/fan-out-wiring';
import { createAnalyzePortfolioDeps } from '../../../lambdas/analysis/wiring';
import { AnalysisRepository } from '../../../lambdas/analysis/adapters/analysis-repository';
import { PortfolioRepository } from '../../../lambdas/portfolios/portfolio-repository';

/** The environment contract each analysis function reads when its dependencies are built. */

function recordingEnv(values: Record<string, string>) {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get: (target, name: string) => {
      read.add(name);
      return target[name];
    },
  }) as NodeJS.ProcessEnv;
  return { env, read };
}

const tables = {
  PORTFOLIOS_TABLE: 'portfolios',
  POSITIONS_TABLE: 'positions',
  ANALYSES_TABLE: 'analyses',
  TICKER_DATA_TABLE: 'ticker-data',
  STATE_TABLE: 'state',
  ANALYSIS_QUEUE_URL: 'https://sqs.local/analysis',
};

describe('analysis wiring', () => {
  it('builds the fan-out from the portfolio tables, the analysis queue and the pacing settings', () => {
    // Prepare
    const { env, read } = recordingEnv({ ...tables });

    // Act
    createAnalyzePortfoliosDeps(env);

    // Assess
    expect([...read].sort()).toEqual([
      'ANALYSIS_DEADLINE_UTC',
      'ANALYSIS_EVENT_SOURCE_MAPPING_ID',
      'ANALYSIS_MAX_CONCURRENCY',
      'ANALYSIS_QUEUE_URL',
      'PORTFOLIOS_TABLE',
      'POSITIONS_TABLE',
      'XAI_REQUESTS_PER_MINUTE',
      'XAI_SECONDS_PER_ANALYSIS',
      'XAI_TOKENS_PER_ANALYSIS',
      'XAI_TOKENS_PER_MINUTE',
    ]);
  });

  it('builds the analysis from its tables and the XAI_* settings, defaults where unset', () => {
    // Prepare
    const { env, read } = recordingEnv({ ...tables });

    // Act
    const { config } = createAnalyzePortfolioDeps(env);

    // Assess
    expect([...read].sort()).toEqual([
      'ANALYSES_TABLE',
      'ANALYSIS_QUEUE_URL',
      'PORTFOLIOS_TABLE',
      'POSITIONS_TABLE',
      'STATE_TABLE',
      'TICKER_DATA_TABLE',
      'XAI_API_URL',
      'XAI_MAX_ATTEMPTS',
      'XAI_MAX_USD_PER_NIGHT',
      'XAI_MODEL',
      'XAI_RETRY_BASE_MS',
      'XAI_RETRY_MAX_MS',
      'XAI_TIMEOUT_MS',
    ]);
    expect(config).toMatchObject({
      xaiApiUrl: 'https://api.x.ai/v1/chat/completions',
      xaiModel: 'grok-4.3',
      xaiTimeoutMs: 60_000,
    });
    expect(config.xaiMaxUsdPerNight).toBeUndefined();
  });

  it('reads the night spending cap in USD and refuses one that is not a positive amount', () => {
    const deps = createAnalyzePortfolioDeps({ ...tables, XAI_MAX_USD_PER_NIGHT: ' 2.5 ' });
    expect(deps.config.xaiMaxUsdPerNight).toBe(2.5);
    expect(deps.forInvocation().runtime.spendCapUsd).toBe(2.5);
    for (const bad of ['0', '-1', 'ten', 'Infinity']) {
      expect(() => createAnalyzePortfolioDeps({ ...tables, XAI_MAX_USD_PER_NIGHT: bad })).toThrow(
        /XAI_MAX_USD_PER_NIGHT must be a positive amount in USD/,
      );
    }
  });

  it('gives the flow the configured model and the repositories themselves as ports', () => {
    // Prepare
    const { env } = recordingEnv({ ...tables, XAI_MODEL: ' grok-5 ' });

    // Act
    const deps = createAnalyzePortfolioDeps(env).forInvocation();

    // Assess
    expect(deps.runtime.model).toBe('grok-5');
    expect(deps.store).toBeInstanceOf(AnalysisRepository);
    expect(deps.portfolios).toBeInstanceOf(PortfolioRepository);
    expect(deps.runtime.remainingMs()).toBe(180_000);
  });
});
