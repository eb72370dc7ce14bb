/**
 * Technical indicators on daily closes, ordered oldest first. Pure functions: an indicator
 * that cannot be computed from the closes given is `undefined`, never a made-up value.
 */

/** RSI look-back stored in `ticker-data.rsi` (SYSTEM.md: RSI(14), Wilder smoothing). */
export const RSI_PERIOD = 14;

/** Moving-average look-back stored in `ticker-data.ma50`. */
export const MA50_PERIOD = 50;

/**
 * RSI returned when both average gain and average loss are zero (a perfectly flat window).
 * Wilder's RS = gain / loss is 0/0 there and neither Wilder nor StockCharts defines it; tools
 * disagree (TA-Lib returns 0, TradingView's `ta.rsi` returns 100). A flat market is neither
 * overbought nor oversold, so we report the neutral midpoint.
 */
export const FLAT_RSI = 50;

/**
 * Wilder RSI state after a given close: enough to continue the series with {@link rsiStep}
 * without the history that produced it.
 */
export interface RsiState {
  /** Wilder-smoothed average gain per session. */
  readonly avgGain: number;
  /** Wilder-smoothed average loss per session, as a positive number. */
  readonly avgLoss: number;
  /** The close this state was computed at. */
  readonly lastClose: number;
  /** RSI (0–100) at `lastClose`. */
  readonly rsi: number;
}

/** Indicator values at one index of a close series; absent where history is too short. */
export interface IndicatorPoint {
  /** RSI({@link RSI_PERIOD}) with Wilder smoothing. */
  rsi?: number;
  /** Simple mean of the last {@link MA50_PERIOD} closes. */
  ma50?: number;
  /** Wilder average gain behind `rsi` (store it to continue with {@link rsiStep}). */
  avgGain?: number;
  /** Wilder average loss behind `rsi` (store it to continue with {@link rsiStep}). */
  avgLoss?: number;
}

function assertPeriod(period: number): void {
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`period must be a positive integer, got ${period}`);
  }
}

function assertCloses(closes: readonly number[]): void {
  closes.forEach((close, i) => {
    if (!Number.isFinite(close))
      throw new RangeError(`close at index ${i} is not a finite number: ${close}`);
  });
}

/**
 * RSI from Wilder averages: 100 − 100 / (1 + avgGain / avgLoss); 100 when only the loss is
 * zero, {@link FLAT_RSI} when both are.
 */
export function rsiFromAverages(avgGain: number, avgLoss: number): number {
  if (avgLoss === 0) return avgGain === 0 ? FLAT_RSI : 100;
  return 100 - 100 / (1 + avgGain / avgLoss);
}

function seedState(closes: readonly number[], period: number): RsiState {
  let gains = 0;
  let losses = 0;
  for (let i = 1; i <= period; i++) {
    const change = closes[i] - closes[i - 1];
    if (change > 0) gains += change;
    else losses -= change;
  }
  const avgGain = gains / period;
  const avgLoss = losses / period;
  return { avgGain, avgLoss, lastClose: closes[period], rsi: rsiFromAverages(avgGain, avgLoss) };
}

/**
 * Advances a Wilder RSI state by one close: each average becomes
 * (previous × (period − 1) + current) / period.
 *
 * @param state - the state at the previous close (from {@link rsiState} or a stored row)
 * @param close - the next close
 * @param period - the look-back the state was built with
 * @defaultValue period {@link RSI_PERIOD}
 */
export function rsiStep(state: RsiState, close: number, period = RSI_PERIOD): RsiState {
  assertPeriod(period);
  assertCloses([close, state.lastClose]);
  if (!(
    state.avgGain >= 0 &&
    state.avgLoss >= 0 &&
    Number.isFinite(state.avgGain + state.avgLoss)
  )) {
    throw new RangeError(
      `RSI state averages must be finite and non-negative: ${state.avgGain}, ${state.avgLoss}`,
    );
  }
  const change = close - state.lastClose;
  const avgGain = (state.avgGain * (period - 1) + (change > 0 ? change : 0)) / period;
  const avgLoss = (state.avgLoss * (period - 1) + (change < 0 ? -change : 0)) / period;
  return { avgGain, avgLoss, lastClose: close, rsi: rsiFromAverages(avgGain, avgLoss) };
}

/**
 * The Wilder RSI state at the last close: averages seeded with the simple mean of the first
 * `period` gains and losses, then Wilder-smoothed (the StockCharts ChartSchool method).
 *
 * @returns `undefined` when there are fewer than `period + 1` closes
 * @defaultValue period {@link RSI_PERIOD}
 */
export function rsiState(closes: readonly number[], period = RSI_PERIOD): RsiState | undefined {
  assertPeriod(period);
  assertCloses(closes);
  if (closes.length < period + 1) return undefined;
  let state = seedState(closes, period);
  for (let i = period + 1; i < closes.length; i++) state = rsiStep(state, closes[i], period);
  return state;
}

/**
 * RSI with Wilder smoothing at the last close.
 *
 * @returns a value in [0, 100], or `undefined` when there are fewer than `period + 1` closes
 * @defaultValue period {@link RSI_PERIOD}
 */
export function rsiWilder(closes: readonly number[], period = RSI_PERIOD): number | undefined {
  return rsiState(closes, period)?.rsi;
}

/**
 * Simple moving average: the mean of the last `period` closes.
 *
 * @returns `undefined` when there are fewer than `period` closes
 * @defaultValue period {@link MA50_PERIOD}
 */
export function sma(closes: readonly number[], period = MA50_PERIOD): number | undefined {
  assertPeriod(period);
  assertCloses(closes);
  if (closes.length < period) return undefined;
  let sum = 0;
  for (let i = closes.length - period; i < closes.length; i++) sum += closes[i];
  return sum / period;
}

/**
 * RSI({@link RSI_PERIOD}) and MA({@link MA50_PERIOD}) at every index of a close series, for
 * backfilled history rows. Element `i` equals what {@link rsiState} and {@link sma} return for
 * `closes.slice(0, i + 1)`.
 */
export function indicatorSeries(closes: readonly number[]): IndicatorPoint[] {
  assertCloses(closes);
  let state: RsiState | undefined;
  return closes.map((close, i) => {
    const point: IndicatorPoint = {};
    if (i === RSI_PERIOD) state = seedState(closes, RSI_PERIOD);
    else if (state) state = rsiStep(state, close, RSI_PERIOD);
    if (state) {
      point.rsi = state.rsi;
      point.avgGain = state.avgGain;
      point.avgLoss = state.avgLoss;
    }
    if (i + 1 >= MA50_PERIOD) point.ma50 = sma(closes.slice(i + 1 - MA50_PERIOD, i + 1));
    return point;
  });
}
