import { indicatorSeries } from '../../../../lambdas/market-data/domain/indicators';
import { tradingDaysBack } from '../../../../lambdas/market-data/domain/market-calendar';
import { sessionCloseIso } from '../../../../lambdas/platform/ny-time';
import {
  INDICATOR_VERSION,
  completeIndicators,
  ownRows,
  rowFromBar,
  type TickerDataRow,
} from '../../../../lambdas/market-data/domain/ticker-rows';

const SESSION = '2026-11-20';
const FETCHED_AT = '2026-11-21T04:30:00.000Z';

/** Deterministic two-decimal closes that wander up and down (so RSI sees gains and losses). */
function closes(n: number, seed = 7): number[] {
  let a = seed;
  let price = 100;
  return Array.from({ length: n }, () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    price = Math.max(1, price * (1 + ((a / 2 ** 31) * 0.06 - 0.03)));
    return Math.round(price * 100) / 100;
  });
}

const rawRows = (ticker: string, prices: number[]): TickerDataRow[] => {
  const days = tradingDaysBack(SESSION, prices.length);
  return prices.map((close, i) =>
    rowFromBar(
      ticker,
      {
        ticker,
        session: days[i],
        open: close,
        high: close,
        low: close,
        close,
        volume: 1_000,
      },
      'polygon-range',
      FETCHED_AT,
    ),
  );
};

/** A row of the old Python service: one per run, local-looking timestamp, microseconds, no Z. */
const pythonRow = (ticker: string, timestamp: string, price: number) => ({
  ticker,
  timestamp,
  price,
  rsi: 55.5,
  ma50: price,
});

describe('rowFromBar', () => {
  it("keys the row by the session's 16:00 New York close, so reruns rewrite it", () => {
    // Act
    const [row] = rawRows('NVDA', [187.5]);

    // Assess
    expect(row).toMatchObject({
      ticker: 'NVDA',
      asOf: SESSION,
      timestamp: '2026-11-20T21:00:00.000Z',
      price: 187.5,
      source: 'polygon-range',
      fetchedAt: FETCHED_AT,
    });
    expect(row.indicatorVersion).toBeUndefined();
    expect(row.rsi).toBeUndefined();
  });
});

describe('ownRows', () => {
  it('drops rows of the old Python service and sorts ours by session', () => {
    // Prepare: newest first, as the repository returns them.
    const ours = rawRows('NVDA', [10, 11, 12]);
    const items: Record<string, unknown>[] = [
      pythonRow('NVDA', '2026-11-21T04:31:07.123456', 12.01),
      { ...ours[2] },
      pythonRow('NVDA', '2026-11-20T04:30:59.654321', 11.01),
      { ...ours[1] },
      { ...ours[0] },
      // A Python row that does carry an asOf, but in its own timestamp style.
      { ...pythonRow('NVDA', '2026-11-18T04:30:00.000001', 9), asOf: '2026-11-18' },
    ];

    // Act
    const rows = ownRows(items);

    // Assess
    expect(rows.map((r) => r.asOf)).toEqual(ours.map((r) => r.asOf));
    expect(rows.map((r) => r.price)).toEqual([10, 11, 12]);
  });

  it('drops rows whose timestamp is not the session close, and rows without a numeric price', () => {
    // Prepare
    const [row] = rawRows('NVDA', [10]);

    // Act
    const rows = ownRows([
      { ...row, timestamp: '2026-11-20T21:00:00Z' },
      { ...row, timestamp: '2026-11-20T21:00:00.000000' },
      { ...row, asOf: '2026-11-20T00:00:00Z' },
      { ...row, price: '10' },
      { ...row, price: Number.NaN },
      { ticker: 'NVDA', timestamp: sessionCloseIso(SESSION) },
    ]);

    // Assess
    expect(rows).toEqual([]);
  });

  it('keeps one row per session', () => {
    // Prepare
    const ours = rawRows('NVDA', [10, 11]);

    // Act
    const rows = ownRows([{ ...ours[1] }, { ...ours[0] }, { ...ours[1] }, { ...ours[0] }]);

    // Assess
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.asOf)).toEqual([ours[0].asOf, ours[1].asOf]);
  });
});

describe('completeIndicators', () => {
  it('computes a whole raw history exactly as indicatorSeries does', () => {
    // Prepare
    const prices = closes(120);
    const series = indicatorSeries(prices);

    // Act
    const done = completeIndicators(rawRows('X', prices));

    // Assess
    expect(done).toHaveLength(120);
    done.forEach((row, i) => {
      expect(row.rsi).toBe(series[i].rsi);
      expect(row.ma50).toBe(series[i].ma50);
      expect(row.rsiAvgGain).toBe(series[i].avgGain);
      expect(row.rsiAvgLoss).toBe(series[i].avgLoss);
      expect(row.indicatorVersion).toBe(INDICATOR_VERSION);
    });
  });

  it.each([1, 5])(
    'continues from the stored Wilder averages exactly like a from-scratch computation (%i new sessions)',
    (added) => {
      // Prepare: 100 sessions completed in an earlier night (and stored), then new raw ones.
      const prices = closes(100 + added, 11);
      const earlier = completeIndicators(rawRows('X', prices.slice(0, 100)));
      const raw = rawRows('X', prices).slice(100);
      // Round-trip through JSON, as numbers stored in DynamoDB come back.
      const stored = JSON.parse(JSON.stringify(earlier)) as TickerDataRow[];
      // Only the newest 80 rows are read back on a steady night.
      const history = [...stored.slice(-80), ...raw];

      // Act
      const done = completeIndicators(history);

      // Assess: exactly the values of indicatorSeries over the full history.
      const series = indicatorSeries(prices);
      expect(done).toHaveLength(added);
      done.forEach((row, k) => {
        const expected = series[100 + k];
        expect(row.asOf).toBe(raw[k].asOf);
        expect(row.rsi).toBe(expected.rsi);
        expect(row.ma50).toBe(expected.ma50);
        expect(row.rsiAvgGain).toBe(expected.avgGain);
        expect(row.rsiAvgLoss).toBe(expected.avgLoss);
      });
    },
  );

  it('leaves indicators absent while there is too little history, never invented', () => {
    // Act
    const done = completeIndicators(rawRows('IPO', closes(50)));

    // Assess: RSI(14) needs 15 closes, MA50 needs 50.
    expect(done).toHaveLength(50);
    for (const row of done.slice(0, 14)) {
      expect(row).not.toHaveProperty('rsi');
      expect(row).not.toHaveProperty('rsiAvgGain');
      expect(row).not.toHaveProperty('rsiAvgLoss');
    }
    expect(done[14].rsi).toEqual(expect.any(Number));
    for (const row of done.slice(0, 49)) expect(row).not.toHaveProperty('ma50');
    expect(done[49].ma50).toEqual(expect.any(Number));
    expect(done.every((r) => r.indicatorVersion === INDICATOR_VERSION)).toBe(true);
  });

  it('gives a ten-session history rows without any indicator', () => {
    // Act
    const done = completeIndicators(rawRows('NEW', closes(10)));

    // Assess
    expect(done).toHaveLength(10);
    for (const row of done) {
      expect(row.rsi).toBeUndefined();
      expect(row.ma50).toBeUndefined();
    }
  });

  it('recomputes from the start when the last completed row has no Wilder state', () => {
    // Prepare: ten completed rows (no RSI yet), then ten raw ones.
    const prices = closes(20, 3);
    const earlier = completeIndicators(rawRows('X', prices.slice(0, 10)));
    const history = [...earlier, ...rawRows('X', prices).slice(10)];

    // Act
    const done = completeIndicators(history);

    // Assess
    const series = indicatorSeries(prices);
    expect(done).toHaveLength(10);
    done.forEach((row, k) => expect(row.rsi).toBe(series[10 + k].rsi));
  });

  it('has nothing to write when the history is already complete (a re-run)', () => {
    // Prepare
    const done = completeIndicators(rawRows('X', closes(60)));

    // Act + Assess
    expect(completeIndicators(done)).toEqual([]);
    expect(completeIndicators([])).toEqual([]);
  });

  it('drops stale indicator values from a raw row it completes', () => {
    // Prepare: a raw row that carries leftovers (e.g. written by hand) but no indicatorVersion.
    const [row] = rawRows('X', [10]);

    // Act
    const [done] = completeIndicators([{ ...row, rsi: 99, ma50: 1, rsiAvgGain: 5, rsiAvgLoss: 5 }]);

    // Assess
    expect(done).not.toHaveProperty('rsi');
    expect(done).not.toHaveProperty('ma50');
    expect(done).not.toHaveProperty('rsiAvgGain');
  });
});
