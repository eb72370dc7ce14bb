import { rowFromBar, type TickerDataRow } from '../../../../lambdas/market-data/domain/ticker-rows';
import type { FinishCursor } from '../../../../lambdas/market-data/ports';
import {
  chunkRows,
  FINISH_CHUNK_ROWS,
  nextChunk,
  writeRows,
  writeStopMs,
} from '../../../../lambdas/market-data/refresh-job/finish';
import type { PlannedJob } from '../../../../lambdas/market-data/refresh-job/plan';

const SESSIONS = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];

/** `rowsEach` rows for each of `tickers` tickers T0, T1, … */
function rowsFor(tickers: number, rowsEach: number): TickerDataRow[][] {
  return Array.from({ length: tickers }, (_, i) =>
    Array.from({ length: rowsEach }, (_, j) =>
      rowFromBar(
        `T${i}`,
        {
          ticker: `T${i}`,
          session: `2026-${String(1 + (j % 11)).padStart(2, '0')}-${String(1 + (j % 28)).padStart(2, '0')}`,
          close: 1 + j,
          open: 1,
          high: 2,
          low: 1,
          volume: 1,
        },
        'polygon-grouped',
        '2026-11-21T04:30:00.000Z',
      ),
    ),
  );
}

const jobOf = (tickers: number): PlannedJob => ({
  v: 1,
  kind: 'refresh',
  runId: 'r',
  session: SESSIONS[4],
  tickers: Array.from({ length: tickers }, (_, i) => `T${i}`),
  plan: { strategy: 'grouped', calls: SESSIONS.map((date) => ({ kind: 'grouped', date })) },
  done: [],
  deferrals: 1,
  parked: [],
});

/**
 * One job's world: a cursor store with the state table's conditional semantics, a `ticker-data`
 * table that counts every put, and a clock that each written row moves on by `msPerRow`.
 */
class World {
  readonly cursors = new Map<string, number>();
  readonly puts = new Map<string, number>();
  remaining = 900_000;
  /** Throws after this many more rows are written (a killed invocation), once. */
  killAfterRows?: number;

  constructor(readonly msPerRow = 1) {}

  readonly cursor: FinishCursor = {
    load: (key) => Promise.resolve(this.cursors.get(key) ?? 0),
    advance: (key, from, to) => {
      if ((this.cursors.get(key) ?? 0) !== from) return Promise.resolve(false);
      this.cursors.set(key, to);
      return Promise.resolve(true);
    },
  };

  deps(withCursor = true) {
    return {
      history: {
        latestRows: () => Promise.resolve([]),
        putRows: (rows: readonly TickerDataRow[]) => {
          for (const r of rows) {
            if (this.killAfterRows !== undefined && this.killAfterRows-- <= 0) {
              this.killAfterRows = undefined;
              return Promise.reject(new Error('killed'));
            }
            const k = `${r.ticker}#${r.asOf}`;
            this.puts.set(k, (this.puts.get(k) ?? 0) + 1);
            this.remaining -= this.msPerRow;
          }
          return Promise.resolve({});
        },
      },
      runtime: { remainingMs: () => this.remaining },
      ...(withCursor ? { finishCursor: this.cursor } : {}),
    };
  }

  written(): number {
    return [...this.puts.values()].reduce((a, b) => a + b, 0);
  }
}

describe('nextChunk', () => {
  it('takes whole tickers up to the row limit, and at least one ticker', () => {
    const rows = rowsFor(5, 3);
    expect(nextChunk(rows, 0, 7).to).toBe(2);
    expect(nextChunk(rows, 2, 7).rows).toHaveLength(6);
    expect(nextChunk(rows, 1, 2)).toMatchObject({ to: 2, rows: rows[1] });
    expect(nextChunk(rows, 4, 100).to).toBe(5);
  });

  it('sizes chunks at 4 % of the job, from 100 to FINISH_CHUNK_ROWS rows', () => {
    expect(chunkRows(250)).toBe(100);
    expect(chunkRows(30_000)).toBe(1_200);
    expect(chunkRows(1_100_000)).toBe(FINISH_CHUNK_ROWS);
  });
});

describe('writeRows (chunked finishing)', () => {
  /** The chunk of the 30,000-row jobs below. */
  const CHUNK = chunkRows(30_000);

  it('without a cursor writes every row at once', async () => {
    const world = new World();
    const out = await writeRows(rowsFor(3, 4), jobOf(3), world.deps(false));
    expect(out).toEqual({ status: 'complete', rowsWritten: 12, next: 3 });
    expect(world.cursors.size).toBe(0);
  });

  it('pauses below the stop time, and the next invocation continues at the cursor: each row once', async () => {
    // Prepare: 300 tickers × 100 rows (chunks of 1,200 rows, 12 tickers); 1 ms a row, time for
    // one and a half chunks before the stop.
    const tickers = 300;
    const rows = rowsFor(tickers, 100);
    const world = new World(1);
    world.remaining = writeStopMs(tickers) + 1.5 * CHUNK;

    // Act: the first invocation, then a fresh one.
    const first = await writeRows(rows, jobOf(tickers), world.deps());
    world.remaining = 900_000;
    const second = await writeRows(rows, jobOf(tickers), world.deps());

    // Assess
    expect(first).toEqual({ status: 'paused', rowsWritten: 2 * CHUNK, next: 24 });
    expect(second).toEqual({ status: 'complete', rowsWritten: 30_000 - 2 * CHUNK, next: 300 });
    expect(world.puts.size).toBe(30_000);
    expect(world.written()).toBe(30_000);
    expect([...world.cursors.values()]).toEqual([300]);
  });

  it('writes one chunk even when the invocation starts below the stop time (the job moves on)', async () => {
    const world = new World();
    world.remaining = 1_000;
    const out = await writeRows(rowsFor(300, 100), jobOf(300), world.deps());
    expect(out).toEqual({ status: 'paused', rowsWritten: CHUNK, next: 12 });
  });

  it('writes nothing when the cursor says every ticker is written (a duplicate after the end)', async () => {
    const world = new World();
    world.cursors.set('r#2026-11-20#T0', 4);
    const out = await writeRows(rowsFor(4, 10), jobOf(4), world.deps());
    expect(out).toEqual({ status: 'complete', rowsWritten: 0, next: 4 });
    expect(world.written()).toBe(0);
  });

  it('stops after one chunk when another invocation of the job moved the cursor', async () => {
    // Prepare: a duplicate message's invocation advances the cursor while this one writes.
    const world = new World();
    const deps = world.deps();
    const putRows = deps.history.putRows;
    deps.history.putRows = async (rows) => {
      world.cursors.set('r#2026-11-20#T0', 12);
      return putRows(rows);
    };

    // Act
    const out = await writeRows(rowsFor(300, 100), jobOf(300), deps);

    // Assess
    expect(out).toEqual({ status: 'superseded', rowsWritten: CHUNK, next: 12 });
    expect(world.cursors.get('r#2026-11-20#T0')).toBe(12);
  });

  it('killed mid-chunk and rerun: no row lost, rows written ≤ 1.05 × distinct rows', async () => {
    // Prepare: the invocation dies 500 rows into its third chunk.
    const rows = rowsFor(300, 100);
    const world = new World();
    world.killAfterRows = 2 * CHUNK + 500;

    // Act
    await expect(writeRows(rows, jobOf(300), world.deps())).rejects.toThrow('killed');
    const rerun = await writeRows(rows, jobOf(300), world.deps());

    // Assess
    expect(rerun).toEqual({ status: 'complete', rowsWritten: 30_000 - 2 * CHUNK, next: 300 });
    expect(world.puts.size).toBe(30_000);
    expect(world.written()).toBe(30_000 + 500);
    expect(world.written()).toBeLessThanOrEqual(1.05 * 30_000);
  });
});
