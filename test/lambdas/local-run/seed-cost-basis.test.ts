import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Big from 'big.js';
import { latestCompletedSession } from '../../../lambdas/market-data/domain/market-calendar';
import { DEFAULT_SEED_FILE, loadSeed, seedCostBasis } from '../../../scripts/lib/seed';
import { syntheticAgg } from '../../../sim/polygon-simulator';

const work = mkdtempSync(path.join(tmpdir(), 'seed-cost-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Mornings spread over years, none of them the real date. */
const MORNINGS = [
  '2026-12-01T09:00:00Z',
  '2027-02-17T11:00:00Z',
  '2027-06-15T12:00:00Z',
  '2028-09-05T09:30:00Z',
  '2029-11-20T10:00:00Z',
  '2031-03-04T10:00:00Z',
];

describe('the default seed’s cost bases', () => {
  const seed = loadSeed(DEFAULT_SEED_FILE);
  const positions = seed.users.flatMap((u) =>
    u.portfolios.flatMap((p) => p.positions.map((pos) => ({ portfolio: p.name, ...pos }))),
  );

  it.each(MORNINGS)(
    'give every simulated lot and portfolio a P/L within ±50 %% at the latest session (%s)',
    (morning) => {
      const now = new Date(morning);
      const session = latestCompletedSession(now.getTime());
      const byPortfolio = new Map<string, { cost: Big; value: Big }>();
      for (const pos of positions.filter((p) => p.boughtSessionsAgo !== undefined)) {
        const cost = new Big(seedCostBasis(pos, now));
        const value = new Big(pos.shares).times(syntheticAgg(pos.ticker.toUpperCase(), session).c);
        const pl = value.minus(cost).div(cost).toNumber();
        expect([pos.portfolio, pos.ticker, Math.abs(pl) <= 0.5]).toEqual([
          pos.portfolio,
          pos.ticker,
          true,
        ]);
        const sum = byPortfolio.get(pos.portfolio) ?? { cost: new Big(0), value: new Big(0) };
        byPortfolio.set(pos.portfolio, { cost: sum.cost.plus(cost), value: sum.value.plus(value) });
      }
      expect(byPortfolio.size).toBeGreaterThanOrEqual(2);
      for (const { cost, value } of byPortfolio.values())
        expect(Math.abs(value.minus(cost).div(cost).toNumber())).toBeLessThanOrEqual(0.5);
    },
  );

  it('are the same on every run of a day and keep a cost basis that is given', () => {
    const lot = { ticker: 'aapl', shares: '8', boughtSessionsAgo: 120 };
    const morning = seedCostBasis(lot, new Date('2026-12-01T09:00:00Z'));
    expect(seedCostBasis(lot, new Date('2026-12-01T20:00:00Z'))).toBe(morning);
    expect(morning).toMatch(/^\d+\.\d{2}$/);
    expect(seedCostBasis({ ticker: 'X', shares: '1', costBasis: '12.5' }, new Date())).toBe('12.5');
  });

  it('rejects a position with both or neither of costBasis and boughtSessionsAgo', () => {
    const file = path.join(work, 'seed.json');
    const seedWith = (pos: object) =>
      writeFileSync(
        file,
        JSON.stringify({
          users: [{ id: 'u', portfolios: [{ id: 'p', name: 'P', positions: [pos] }] }],
        }),
      );
    seedWith({ ticker: 'AAPL', shares: 1 });
    expect(() => loadSeed(file)).toThrow('give either costBasis or boughtSessionsAgo');
    seedWith({ ticker: 'AAPL', shares: 1, costBasis: 5, boughtSessionsAgo: 3 });
    expect(() => loadSeed(file)).toThrow('give either costBasis or boughtSessionsAgo');
  });
});
