/** When the first night's rule fires (cron(30 4 ? * TUE-SAT *)); the second night is a day later. */
export const DEFAULT_NIGHT = '2026-11-17T04:30:00.000Z';
/** Synthetic symbols in the simulator (plus its 10 large caps); a real grouped day has about 11,000. */
export const UNIVERSE = 11_000;
/** Each ticker is held by this many positions, in portfolios of POSITIONS_PER_PORTFOLIO. */
export const POSITIONS_PER_TICKER = 2;
export const POSITIONS_PER_PORTFOLIO = 20;
