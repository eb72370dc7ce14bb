import { benchmarkTickerEnv, positiveIntEnv, requireEnv } from '../../platform/config';
import { portfolioTablesConfig } from '../../portfolios/config';

/** What `evaluateAnalyses` reads (its registry entry in lib/functions.ts lists the same). */
export interface EvaluateAnalysesConfig {
  readonly analysesTable: string;
  readonly tickerDataTable: string;
  /** Holds the refresh marker: the newest refreshed session. */
  readonly stateTable: string;
  readonly trackRecordTable: string;
  readonly portfoliosTable: string;
  readonly positionsTable: string;
  readonly benchmarkTicker: string;
  /** Sessions after `dataAsOf` (h). @default 5 */
  readonly horizon: number;
}

export function evaluateAnalysesConfig(
  env: NodeJS.ProcessEnv = process.env,
): EvaluateAnalysesConfig {
  return {
    analysesTable: requireEnv('ANALYSES_TABLE', env),
    tickerDataTable: requireEnv('TICKER_DATA_TABLE', env),
    stateTable: requireEnv('STATE_TABLE', env),
    trackRecordTable: requireEnv('TRACK_RECORD_TABLE', env),
    ...portfolioTablesConfig(env),
    benchmarkTicker: benchmarkTickerEnv(env),
    horizon: positiveIntEnv('TRACK_RECORD_HORIZON', 5, env),
  };
}
