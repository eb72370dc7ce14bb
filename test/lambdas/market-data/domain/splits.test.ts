import { rsiWilder, sma } from '../../../../lambdas/market-data/domain/indicators';
import { tradingDaysBack } from '../../../../lambdas/market-data/domain/market-calendar';
import {
  applySplits,
  basisDate,
  type SplitEvent,
} from '../../../../lambdas/market-data/domain/splits';
import {
  completeIndicators,
  rowFromBar,
  type TickerDataRow,
} from '../../../../lambdas/market-data/domain/ticker-rows';

// 90 sessions ending on Friday 2026-11-20; the refresh runs in the night after it.
const DAYS = tradingDaysBack('2026-11-20', 90);
const TONIGHT = '2026-11-21T04:30:00.000Z';
const nightAfter = (session: string) => `${session}T23:30:00.000Z`;

/** Adjusted (today's basis) closes that wander up and down. */
function adjustedCloses(n: number, seed = 11): number[] {
  let a = seed;
  let price = 40;
  return Array.from({ length: n }, () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    price = Math.max(1, price * (1 + ((a / 2 ** 31) * 0.06 - 0.03)));
    return Math.round(price * 100) / 100;
  });
}

const row = (i: number, close: number, fetchedAt: string): TickerDataRow =>
  rowFromBar(
    'NVDA',
    { ticker: 'NVDA', session: DAYS[i], open: close, high: close, low: close, close, volume: 1000 },
    'polygon-grouped',
    fetchedAt,
  );

/** One night: stored plus fetched rows, splits applied as of `at`, indicators completed. */
function night(
  stored: TickerDataRow[],
  fetched: TickerDataRow[],
  splits: SplitEvent[],
  at: string,
) {
  const applied = applySplits([...stored, ...fetched], splits, at);
  const completed = completeIndicators(applied.rows);
  const byDay = new Map(completed.map((r) => [r.asOf, r]));
  return { rows: applied.rows.map((r) => byDay.get(r.asOf) ?? r), changed: applied.changed };
}

const tonight = (stored: TickerDataRow[], fetched: TickerDataRow[], splits: SplitEvent[]) =>
  night(stored, fetched, splits, TONIGHT);

/**
 * The table as the nightly refresh left it after sessions 0..upTo-1: each session fetched in the
 * night after it, on that day's basis (splits executed later not applied yet), and re-based by
 * the night that learnt of a split.
 */
function storedAsTraded(adjusted: number[], splits: SplitEvent[], upTo: number): TickerDataRow[] {
  let rows: TickerDataRow[] = [];
  for (let i = 0; i < upTo; i++) {
    const fetchedAt = nightAfter(DAYS[i]);
    const pending = splits
      .filter((s) => s.executionDate > basisDate({ fetchedAt }))
      .reduce((f, s) => f * (s.splitTo / s.splitFrom), 1);
    rows = night(rows, [row(i, adjusted[i] * pending, fetchedAt)], splits, fetchedAt).rows;
  }
  return rows;
}

function expectExact(rows: TickerDataRow[], adjusted: number[]) {
  const newest = rows[rows.length - 1];
  const closes = adjusted.slice(0, rows.length);
  expect(newest.price).toBe(closes[closes.length - 1]);
  expect(Math.abs((newest.ma50 as number) / (sma(closes) as number) - 1)).toBeLessThan(1e-9);
  expect(newest.rsi).toBeCloseTo(rsiWilder(closes) as number, 6);
  rows.forEach((r, i) => expect(r.price).toBeCloseTo(adjusted[i], 9));
}

describe('applySplits', () => {
  it('re-bases a forward split: closes before S divided by 10, MA50 and RSI continue exactly', () => {
    // Prepare: a 10-for-1 executes on session 85; stored through 84, tonight fetches 85
    const adjusted = adjustedCloses(86);
    const splits = [{ ticker: 'NVDA', executionDate: DAYS[85], splitFrom: 1, splitTo: 10 }];
    const stored = storedAsTraded(adjusted, splits, 85);
    expect(stored[84].price).toBeCloseTo(adjusted[84] * 10, 9);

    // Act
    const result = tonight(stored, [row(85, adjusted[85], TONIGHT)], splits);

    // Assess
    expectExact(result.rows, adjusted);
    expect(result.rows[85].split).toEqual({ from: 1, to: 10 });
    expect(result.rows[84].split).toBeUndefined();
    expect(result.rows[84].rsi).toBe(stored[84].rsi);
    expect(result.rows[84].volume).toBe(10_000);
    expect(result.changed).toHaveLength(86);
  });

  it('re-bases a reverse split (1-for-4) the same way', () => {
    // Prepare
    const adjusted = adjustedCloses(86, 3);
    const splits = [{ ticker: 'NVDA', executionDate: DAYS[85], splitFrom: 4, splitTo: 1 }];
    const stored = storedAsTraded(adjusted, splits, 85);

    // Act
    const result = tonight(stored, [row(85, adjusted[85], TONIGHT)], splits);

    // Assess
    expectExact(result.rows, adjusted);
    expect(result.rows[85].split).toEqual({ from: 4, to: 1 });
  });

  it('applies two splits in one window (missed nights) with each row divided by what it lacks', () => {
    // Prepare: stored through 79; a 2-for-1 on 82 and a 3-for-1 on 85 while the service was down
    const adjusted = adjustedCloses(88, 5);
    const splits = [
      { ticker: 'NVDA', executionDate: DAYS[82], splitFrom: 1, splitTo: 2 },
      { ticker: 'NVDA', executionDate: DAYS[85], splitFrom: 1, splitTo: 3 },
    ];
    const stored = storedAsTraded(adjusted, splits, 80);
    const fetched = [80, 81, 82, 83, 84, 85, 86, 87].map((i) => row(i, adjusted[i], TONIGHT));

    // Act
    const result = tonight(stored, fetched, splits);

    // Assess
    expect(stored[79].price).toBeCloseTo(adjusted[79] * 6, 9);
    expectExact(result.rows, adjusted);
    expect(result.rows[82].split).toEqual({ from: 1, to: 2 });
    expect(result.rows[85].split).toEqual({ from: 1, to: 3 });
  });

  it('divides a row fetched between two splits only by the later one', () => {
    // Prepare: row 83 was fetched after the first split executed (on its basis); the nightly runs
    // re-based the rows before it then
    const adjusted = adjustedCloses(88, 9);
    const splits = [
      { ticker: 'NVDA', executionDate: DAYS[82], splitFrom: 1, splitTo: 2 },
      { ticker: 'NVDA', executionDate: DAYS[85], splitFrom: 1, splitTo: 3 },
    ];
    const stored = storedAsTraded(adjusted, splits, 85);
    const fetched = [85, 86, 87].map((i) => row(i, adjusted[i], TONIGHT));

    // Act
    const result = tonight(stored, fetched, splits);

    // Assess
    expect(stored[83].price).toBeCloseTo(adjusted[83] * 3, 9);
    // Row 81 was re-based by the night that learnt of the first split
    expect(stored[81].price).toBeCloseTo(adjusted[81] * 3, 9);
    expect(stored[81].fetchedAt).toBe(nightAfter(DAYS[82]));
    expectExact(result.rows, adjusted);
  });

  it('leaves a backfill that starts on the split session as fetched, only marking the session', () => {
    // Prepare: a new ticker's history, fetched tonight (on today's basis), begins on S
    const adjusted = adjustedCloses(60, 13);
    const splits = [{ ticker: 'NVDA', executionDate: DAYS[30], splitFrom: 1, splitTo: 10 }];
    const fetched = adjusted.map((c, i) => row(i + 30, c, TONIGHT));

    // Act
    const applied = applySplits(fetched, splits, TONIGHT);
    const completed = completeIndicators(applied.rows);

    // Assess
    expect(applied.changed).toEqual([{ ...fetched[0], split: { from: 1, to: 10 } }]);
    expect(completed.map((r) => r.price)).toEqual(adjusted);
    expect(completed[59].ma50).toBeCloseTo(sma(adjusted) as number, 9);
    expect(completed[59].rsi).toBeCloseTo(rsiWilder(adjusted) as number, 9);
  });

  it('changes nothing the second time, and nothing for an announced or another ticker’s split', () => {
    // Prepare
    const adjusted = adjustedCloses(86);
    const executed = [{ ticker: 'NVDA', executionDate: DAYS[85], splitFrom: 1, splitTo: 10 }];
    const once = tonight(
      storedAsTraded(adjusted, executed, 85),
      [row(85, adjusted[85], TONIGHT)],
      executed,
    );
    const others = [
      { ticker: 'NVDA', executionDate: '2026-11-24', splitFrom: 1, splitTo: 5 },
      { ticker: 'AAPL', executionDate: DAYS[85], splitFrom: 1, splitTo: 4 },
    ];

    // Act
    const again = applySplits(once.rows, executed, '2026-11-22T04:30:00.000Z');
    const announced = applySplits(once.rows, others, TONIGHT);

    // Assess
    expect(again.changed).toEqual([]);
    expect(announced.changed).toEqual([]);
    expect(announced.rows).toEqual(once.rows);
  });
});
