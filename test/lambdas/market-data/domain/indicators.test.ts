import {
  FLAT_RSI,
  indicatorSeries,
  rsiFromAverages,
  rsiState,
  rsiStep,
  rsiWilder,
  sma,
  type RsiState,
} from '../../../../lambdas/market-data/domain/indicators';
import { seededRandom } from '../../../../sim/seeded-random';

/**
 * StockCharts ChartSchool, "Relative Strength Index (RSI)", worked example spreadsheet
 * cs-rsi.xls (QQQQ daily closes):
 * https://chartschool.stockcharts.com/table-of-contents/technical-indicators-and-overlays/technical-indicators/relative-strength-index-rsi
 * The page's table shows these closes rounded to two decimals (44.34, 44.09, …); the published
 * RSI column (70.53, 66.32, …) is computed from the spreadsheet's four-decimal closes below.
 * The two-decimal closes give 70.46, 66.25, … instead.
 */
const STOCKCHARTS_CLOSES = [
  44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
  46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
  45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
];

/** The published 14-day RSI column, one value per close from the 15th on. */
const STOCKCHARTS_RSI = [
  70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46,
  41.87, 45.46, 37.3, 33.08, 37.77,
];

function randomWalk(length: number, seed: number): number[] {
  const random = seededRandom(seed);
  const closes = [100];
  while (closes.length < length) {
    const previous = closes[closes.length - 1];
    const move = random() < 0.1 ? 0 : (random() - 0.5) * 0.06 * previous;
    closes.push(Math.round((previous + move) * 100) / 100);
  }
  return closes;
}

/**
 * RSI written independently of the module: the averages as exponential moving averages with
 * alpha = 1/period (avg += alpha × (x − avg)), seeded with the simple mean of the first
 * `period` gains and losses.
 */
function rsiByEma(closes: number[], period: number): Array<number | undefined> {
  const alpha = 1 / period;
  const gains = closes.slice(1).map((c, i) => Math.max(c - closes[i], 0));
  const losses = closes.slice(1).map((c, i) => Math.max(closes[i] - c, 0));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out: Array<number | undefined> = closes.map(() => undefined);
  let up = mean(gains.slice(0, period));
  let down = mean(losses.slice(0, period));
  const toRsi = () => (down === 0 ? (up === 0 ? 50 : 100) : 100 * (up / (up + down)));
  out[period] = toRsi();
  for (let i = period; i < gains.length; i++) {
    up += alpha * (gains[i] - up);
    down += alpha * (losses[i] - down);
    out[i + 1] = toRsi();
  }
  return out;
}

describe('rsiWilder', () => {
  it('reproduces every RSI of the StockCharts worked example to two decimals', () => {
    // Prepare
    const expectedByIndex = STOCKCHARTS_RSI.map((rsi, k) => ({ index: 14 + k, rsi }));

    // Act
    const actual = expectedByIndex.map(({ index }) =>
      rsiWilder(STOCKCHARTS_CLOSES.slice(0, index + 1)),
    );

    // Assess
    expect(actual.map((rsi) => rsi?.toFixed(2))).toEqual(
      STOCKCHARTS_RSI.map((rsi) => rsi.toFixed(2)),
    );
  });

  it('returns undefined for the StockCharts series before its 15th close', () => {
    // Prepare
    const prefixes = Array.from({ length: 15 }, (_, n) => STOCKCHARTS_CLOSES.slice(0, n));

    // Act
    const actual = prefixes.map((closes) => rsiWilder(closes));

    // Assess
    expect(actual).toEqual(prefixes.map(() => undefined));
  });

  it('matches an exponential-moving-average formulation over a long pseudo-random series', () => {
    // Prepare
    const closes = randomWalk(600, 42);
    const reference = rsiByEma(closes, 14);

    // Act
    const actual = closes.map((_, i) => rsiWilder(closes.slice(0, i + 1)));

    // Assess
    actual.forEach((rsi, i) => {
      const expected = reference[i];
      if (expected === undefined) expect(rsi).toBeUndefined();
      else expect(rsi).toBeCloseTo(expected, 9);
    });
  });

  it('returns 100 when every change is a gain', () => {
    // Prepare
    const closes = Array.from({ length: 30 }, (_, i) => 10 + i * 0.5);

    // Act
    const rsi = rsiWilder(closes);

    // Assess
    expect(rsi).toBe(100);
  });

  it('returns 0 when every change is a loss', () => {
    // Prepare
    const closes = Array.from({ length: 30 }, (_, i) => 40 - i * 0.5);

    // Act
    const rsi = rsiWilder(closes);

    // Assess
    expect(rsi).toBe(0);
  });

  it('returns the neutral FLAT_RSI of 50 when the window has no change at all', () => {
    // Prepare
    const closes = Array.from({ length: 20 }, () => 12.5);

    // Act
    const rsi = rsiWilder(closes);

    // Assess
    expect(FLAT_RSI).toBe(50);
    expect(rsi).toBe(FLAT_RSI);
  });

  it('honours a custom period', () => {
    // Prepare
    const closes = [1, 2, 1, 2];

    // Act
    const rsi = rsiWilder(closes, 3);

    // Assess
    expect(rsi).toBeCloseTo(100 - 100 / (1 + 2 / 1), 12);
    expect(rsiWilder(closes, 4)).toBeUndefined();
  });

  it('rejects a non-integer period and non-finite closes', () => {
    // Prepare
    const closes = [1, 2, 3, 4];

    // Act
    const act = [
      () => rsiWilder(closes, 0),
      () => rsiWilder(closes, 2.5),
      () => rsiWilder([1, Number.NaN, 3], 1),
    ];

    // Assess
    act.forEach((fn) => expect(fn).toThrow(RangeError));
  });
});

describe('rsiFromAverages', () => {
  it('returns 100 for a zero average loss and FLAT_RSI when both averages are zero', () => {
    // Prepare
    const cases: Array<[number, number, number]> = [
      [1, 0, 100],
      [0, 0, FLAT_RSI],
      [0, 1, 0],
      [1, 1, 50],
    ];

    // Act
    const actual = cases.map(([gain, loss]) => rsiFromAverages(gain, loss));

    // Assess
    expect(actual).toEqual(cases.map(([, , expected]) => expected));
  });
});

describe('rsiState and rsiStep', () => {
  it('seeds the averages with the simple mean of the first 14 gains and losses', () => {
    // Prepare
    const closes = STOCKCHARTS_CLOSES.slice(0, 15);
    const changes = closes.slice(1).map((c, i) => c - closes[i]);
    const meanGain = changes.filter((c) => c > 0).reduce((a, b) => a + b, 0) / 14;
    const meanLoss = -changes.filter((c) => c < 0).reduce((a, b) => a + b, 0) / 14;

    // Act
    const state = rsiState(closes);

    // Assess
    expect(state?.avgGain).toBeCloseTo(meanGain, 12);
    expect(state?.avgLoss).toBeCloseTo(meanLoss, 12);
    expect(state?.lastClose).toBe(46.282);
    expect(state?.rsi.toFixed(2)).toBe('70.53');
  });

  it('returns undefined with fewer than period + 1 closes', () => {
    // Prepare
    const closes = STOCKCHARTS_CLOSES.slice(0, 14);

    // Act
    const state = rsiState(closes);

    // Assess
    expect(state).toBeUndefined();
    expect(rsiState([])).toBeUndefined();
  });

  it('continues from stored state exactly as a full recomputation from scratch would', () => {
    // Prepare
    const closes = randomWalk(400, 7);
    const seed = rsiState(closes.slice(0, 15)) as RsiState;

    // Act
    const chain: RsiState[] = [seed];
    for (const close of closes.slice(15)) {
      const stored = JSON.parse(JSON.stringify(chain[chain.length - 1])) as RsiState;
      chain.push(rsiStep(stored, close));
    }

    // Assess
    chain.forEach((state, k) => {
      expect(state).toEqual(rsiState(closes.slice(0, 15 + k)));
    });
  });

  it('continues the StockCharts example from its 15th-close state to the published last RSI', () => {
    // Prepare
    const state = rsiState(STOCKCHARTS_CLOSES.slice(0, 15)) as RsiState;

    // Act
    const last = STOCKCHARTS_CLOSES.slice(15).reduce((s, close) => rsiStep(s, close), state);

    // Assess
    expect(last.rsi.toFixed(2)).toBe('37.77');
    expect(last.lastClose).toBe(43.1314);
  });

  it('rejects a state with negative or non-finite averages', () => {
    // Prepare
    const bad: RsiState[] = [
      { avgGain: -1, avgLoss: 0, lastClose: 1, rsi: 0 },
      { avgGain: Number.NaN, avgLoss: 0, lastClose: 1, rsi: 0 },
      { avgGain: 1, avgLoss: 1, lastClose: Number.POSITIVE_INFINITY, rsi: 50 },
    ];

    // Act
    const act = bad.map((state) => () => rsiStep(state, 1));

    // Assess
    act.forEach((fn) => expect(fn).toThrow(RangeError));
  });
});

describe('sma', () => {
  it('returns the mean of the last period closes', () => {
    // Prepare
    const closes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    // Act
    const mean = sma(closes, 5);

    // Assess
    expect(mean).toBe(8);
  });

  it('defaults to 50 closes', () => {
    // Prepare
    const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
    const sixty = Array.from({ length: 60 }, (_, i) => i + 1);

    // Act
    const actual = [sma(fifty), sma(sixty), sma(fifty.slice(1))];

    // Assess
    expect(actual).toEqual([25.5, 35.5, undefined]);
  });

  it('returns undefined with fewer closes than the period', () => {
    // Prepare
    const closes = [1, 2, 3, 4];

    // Act
    const mean = sma(closes, 5);

    // Assess
    expect(mean).toBeUndefined();
    expect(sma([], 1)).toBeUndefined();
  });
});

describe('indicatorSeries', () => {
  it('equals rsiState and sma on every prefix of the series', () => {
    // Prepare
    const closes = randomWalk(180, 2026);

    // Act
    const series = indicatorSeries(closes);

    // Assess
    expect(series).toHaveLength(closes.length);
    series.forEach((point, i) => {
      const prefix = closes.slice(0, i + 1);
      const state = rsiState(prefix);
      const expected = {
        ...(state && { rsi: state.rsi, avgGain: state.avgGain, avgLoss: state.avgLoss }),
        ...(i >= 49 && { ma50: sma(prefix) }),
      };
      expect(point).toEqual(expected);
    });
  });

  it('leaves rsi absent before the 15th close and ma50 absent before the 50th', () => {
    // Prepare
    const closes = randomWalk(60, 1);

    // Act
    const series = indicatorSeries(closes);

    // Assess
    expect(series.findIndex((p) => p.rsi !== undefined)).toBe(14);
    expect(series.findIndex((p) => p.ma50 !== undefined)).toBe(49);
    expect(Object.keys(series[13])).toEqual([]);
    expect(series[14].rsi?.toFixed(2)).toBe(rsiWilder(closes.slice(0, 15))?.toFixed(2));
  });

  it('reproduces the StockCharts RSI column', () => {
    // Prepare
    const closes = STOCKCHARTS_CLOSES;

    // Act
    const series = indicatorSeries(closes);

    // Assess
    expect(series.slice(14).map((p) => p.rsi?.toFixed(2))).toEqual(
      STOCKCHARTS_RSI.map((r) => r.toFixed(2)),
    );
  });
});
