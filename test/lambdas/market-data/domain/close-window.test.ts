import {
  CLOSE_WINDOW,
  closesBefore,
  continuable,
} from '../../../../lambdas/market-data/domain/close-window';
import { tradingDaysBack } from '../../../../lambdas/market-data/domain/market-calendar';
import { applySplits, type SplitEvent } from '../../../../lambdas/market-data/domain/splits';
import {
  completeIndicators,
  rowFromBar,
  type TickerDataRow,
} from '../../../../lambdas/market-data/domain/ticker-rows';

/** Seeded generator (LCG), so a failure names its series. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
}

const fetchedOn = (session: string) => `${session}T23:00:00.000Z`;

function raw(session: string, close: number): TickerDataRow {
  const bar = { ticker: 'RND', session, open: close, high: close, low: close, close, volume: 1e6 };
  return rowFromBar('RND', bar, 'polygon-grouped', fetchedOn(session));
}

type Table = Map<string, TickerDataRow>;
const ascending = (t: Table) => [...t.values()].sort((a, b) => (a.asOf < b.asOf ? -1 : 1));
const write = (t: Table, rows: readonly TickerDataRow[]) => rows.forEach((r) => t.set(r.asOf, r));

/**
 * One night as the refresh job runs it: `history` rows (oldest first) plus the new raw row,
 * re-based for a split executed today, indicators completed; the changed rows are written.
 */
function night(
  table: Table,
  history: readonly TickerDataRow[],
  row: TickerDataRow,
  split: SplitEvent[],
  storedWindow: boolean,
): void {
  const { rows, changed } = applySplits([...history, row], split, row.fetchedAt);
  const completed = completeIndicators(rows, { storedWindow });
  write(table, [...changed, ...completed]);
}

/**
 * Plays `sessions` nights of a random walk at full double precision on two tables: "today" reads
 * the newest 80 rows every night (the history Query), "steady" reads only the previous session's
 * row when that row can be continued from (the steady night's BatchGetItem), else the 80 rows.
 * A split executes on one session (its night re-reads 400 rows, as the merge does) and the
 * ticker has no bar on a few sessions (the next night finds no previous row: a gap).
 */
function play(seed: number, opts: { sessions: number; splitAt: number; gaps: Set<number> }) {
  const rnd = random(seed);
  const days = tradingDaysBack('2026-11-20', opts.sessions);
  const today: Table = new Map();
  const steady: Table = new Map();
  let price = 20 + rnd() * 300;
  let steadyNights = 0;
  days.forEach((day, i) => {
    price = Math.max(0.01, price * (1 + (rnd() - 0.5) * 0.08));
    if (i === opts.splitAt) price /= 4;
    if (opts.gaps.has(i)) return;
    const split =
      i === opts.splitAt ? [{ ticker: 'RND', executionDate: day, splitFrom: 1, splitTo: 4 }] : [];
    const back = split.length > 0 ? 400 : 80;
    night(today, ascending(today).slice(-back), raw(day, price), split, false);
    const prev = steady.get(days[i - 1]);
    if (split.length === 0 && continuable(prev)) {
      steadyNights++;
      night(steady, [prev as TickerDataRow], raw(day, price), split, true);
    } else night(steady, ascending(steady).slice(-back), raw(day, price), split, true);
  });
  return { today: ascending(today), steady: ascending(steady), steadyNights };
}

const indicators = (r: TickerDataRow) => [
  r.asOf,
  r.price,
  r.rsi,
  r.ma50,
  r.rsiAvgGain,
  r.rsiAvgLoss,
];

describe('the steady night (previous row and its closes) against the full history', () => {
  it.each([1, 2, 3, 4, 5])(
    'gives bit-identical RSI, MA50 and Wilder averages every night (series %i, split and gaps)',
    (seed) => {
      // Arrange / Act: 400 sessions, a 4-for-1 split at 230, no bar on sessions 120 and 121, 300
      const result = play(seed, { sessions: 400, splitAt: 230, gaps: new Set([120, 121, 300]) });

      // Assess: every stored value equal to the last bit (toEqual would accept -0 for 0; Object.is
      // per value via toStrictEqual on arrays of numbers), and the steady path really taken.
      expect(result.steady.map(indicators)).toStrictEqual(result.today.map(indicators));
      for (const [a, b] of result.steady.map((r, i) => [r, result.today[i]] as const))
        for (const k of ['rsi', 'ma50', 'rsiAvgGain', 'rsiAvgLoss'] as const)
          expect(Object.is(a[k], b[k])).toBe(true);
      expect(result.steadyNights).toBeGreaterThan(300);
      expect(result.today.filter((r) => r.split)).toHaveLength(1);
    },
  );

  it("keeps each night's window on its newest row; a split re-base drops the older ones", () => {
    // Act: no gap, so session index 240 is the split's
    const { steady } = play(9, { sessions: 260, splitAt: 240, gaps: new Set() });

    // Assess
    const splitDay = steady[240].asOf;
    expect(steady.filter((r) => r.asOf < splitDay && r.recentCloses)).toEqual([]);
    expect(steady.slice(240).every((r) => continuable(r))).toBe(true);
    const last = steady[steady.length - 1];
    expect(last.recentCloses).toEqual(steady.slice(-CLOSE_WINDOW).map((r) => r.price));
  });
});

describe('closesBefore', () => {
  const rows = (prices: number[]) =>
    completeIndicators(
      tradingDaysBack('2026-11-20', prices.length).map((d, i) => raw(d, prices[i])),
    );
  const history = rows(Array.from({ length: 60 }, (_, i) => 100 + Math.sin(i) * 5));
  const prev = history[history.length - 1];
  const next = raw('2026-11-23', 101.5);

  it('puts the window on the last row of a backfill only', () => {
    expect(history.filter((r) => r.recentCloses).map((r) => r.asOf)).toEqual([prev.asOf]);
  });

  it("takes the missing closes from the previous row's window", () => {
    expect(closesBefore([prev, next], 1)).toEqual(
      history.slice(-CLOSE_WINDOW, -1).map((r) => r.price),
    );
  });

  it('takes nothing when the rows hold the closes, or the window disagrees with them', () => {
    expect(closesBefore([...history, next], history.length)).toEqual([]);
    const tampered = { ...history[history.length - 2], price: 1 };
    expect(closesBefore([tampered, prev, next], 2)).toEqual([]);
  });

  it('takes nothing from a row that cannot be continued from', () => {
    const { recentCloses: _w, ...bare } = prev;
    expect(continuable(bare)).toBe(false);
    expect(continuable({ ...prev, recentCloses: prev.recentCloses?.slice(1) })).toBe(false);
    expect(continuable({ ...prev, price: prev.price + 1 })).toBe(false);
    expect(closesBefore([bare, next], 1)).toEqual([]);
  });
});
