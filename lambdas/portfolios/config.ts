import { requireEnv } from '../platform/config';

/** The portfolio-api tables every function that reads portfolios names (SYSTEM.md). */
export interface PortfolioTablesConfig {
  readonly portfoliosTable: string;
  readonly positionsTable: string;
}

/** Reads `PORTFOLIOS_TABLE` and `POSITIONS_TABLE`; a missing name throws. */
export function portfolioTablesConfig(env: NodeJS.ProcessEnv = process.env): PortfolioTablesConfig {
  return {
    portfoliosTable: requireEnv('PORTFOLIOS_TABLE', env),
    positionsTable: requireEnv('POSITIONS_TABLE', env),
  };
}
