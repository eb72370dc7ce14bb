/**
 * `npm start` and `npm run invoke -- … --stage local` as a user runs them: child processes with
 * the simulators, asserting on what they print and on the data they leave in their `--data-dir`
 * (opened again with dynalite after they exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import Big from 'big.js';
import { defaultLocalTableNames } from '../../../sim/local-tables';
import { startLocalDynamo } from '../../../sim/local-dynamo';
import { nextTradingDay } from '../../../lambdas/market-data/domain/market-calendar';
import { scoreBadge } from '../../../scripts/lib/night-report';

jest.setTimeout(150_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const names = defaultLocalTableNames('local');
const ZSM_SEVEN = '7e5b8c2a-0d1f-4a3b-9c6d-1e2f3a4b5c01';
const GROWTH = '7e5b8c2a-0d1f-4a3b-9c6d-1e2f3a4b5c02';
const OLD_PICKS = '7e5b8c2a-0d1f-4a3b-9c6d-1e2f3a4b5c03';
const WATCHLIST = '7e5b8c2a-0d1f-4a3b-9c6d-1e2f3a4b5c04';

const work = mkdtempSync(path.join(tmpdir(), 'local-run-e2e-'));
const dataDir = path.join(work, 'data');
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs an npm script in the repository without real upstream keys, as on a fresh machine. */
function npm(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Ran> {
  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !['POLYGON_API_KEY', 'XAI_API_KEY', 'AWS_PROFILE'].includes(k),
      ),
    ),
    ...extraEnv,
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['--silent', ...args], { cwd: repoRoot, env });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Opens the data a run left behind (after it exited: LevelDB allows one process at a time). */
async function withData<T>(fn: (doc: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
  return withDir(dataDir, fn);
}

async function withDir<T>(
  dir: string,
  fn: (doc: DynamoDBDocumentClient) => Promise<T>,
): Promise<T> {
  const dynamo = await startLocalDynamo({ names, dataDir: dir });
  try {
    return await fn(
      DynamoDBDocumentClient.from(dynamo.client, { unmarshallOptions: { wrapNumbers: true } }),
    );
  } finally {
    await dynamo.close();
  }
}

const scan = async (doc: DynamoDBDocumentClient, table: string) =>
  (await doc.send(new ScanCommand({ TableName: table }))).Items ?? [];
const query = async (doc: DynamoDBDocumentClient, table: string, key: string, value: string) =>
  (
    await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': key },
        ExpressionAttributeValues: { ':v': value },
        ScanIndexForward: false,
      }),
    )
  ).Items ?? [];
const n = (v: unknown) => (v as { value: string } | undefined)?.value;

describe('npm start: a complete simulated night', () => {
  let first: Ran;
  let result: any;
  let session: string;

  beforeAll(async () => {
    first = await npm([
      'start',
      '--',
      '--data-dir',
      dataDir,
      '--json',
      path.join(work, 'night-1.json'),
      '--log-file',
      path.join(work, 'night-1.log'),
    ]);
    result = JSON.parse(readFileSync(path.join(work, 'night-1.json'), 'utf8'));
    session = result.session;
  });

  it('exits 0 within 2 minutes, saying loudly that both upstreams are simulated', () => {
    // Assess
    expect({ code: first.code, stderr: first.stderr.replace(/npm warn .*\n/g, '') }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(first.ms).toBeLessThan(120_000);
    expect(first.stdout).toMatch(
      /Polygon\s+SIMULATED - local simulator at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(first.stdout).toMatch(/xAI\s+SIMULATED - local simulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(first.stdout).toContain('compressed 30x');
    expect(first.stdout).toMatch(/RESULT: OK, a complete SIMULATED night in [\d.]+ s/);
    expect(result).toMatchObject({ ok: true, problems: [] });
  });

  it('reports progress per step: tickers refreshed n/N, Polygon calls, analyses n/M, freshness', () => {
    // Assess
    expect(first.stdout).toMatch(
      new RegExp(`processTickers \\{\\} -> session ${session}: 8 tickers from 9 positions`),
    );
    expect(first.stdout).toContain('tickers refreshed 7/8 (+1 without data) | Polygon calls 8/8');
    expect(first.stdout).toContain('without data (NOSUCHCO)');
    expect(first.stdout).toContain('analyzePortfolios {} -> 2 analyses queued');
    expect(first.stdout).toMatch(/analyses 2\/2 \| "(ZSM Seven|Growth)" stored/);
    expect(first.stdout).toContain(
      `checkFreshness {} -> fresh: last refreshed session ${session}, expected ${session}`,
    );
    expect(result.polygonSimulator.maxAdmittedInWindow).toBeLessThanOrEqual(5);
    expect(result.polygonSimulator.rateLimited).toBe(0);
  });

  it('writes a session row with RSI and MA50 for every active known ticker, and none for the others', async () => {
    // Act
    const rows = await withData(async (doc) =>
      Object.fromEntries(
        await Promise.all(
          ['AAPL', 'AMZN', 'GOOGL', 'META', 'MSFT', 'NVDA', 'NOSUCHCO', 'JPM', 'TSLA'].map(
            async (t) => [t, await query(doc, names.tickerData, 'ticker', t)] as const,
          ),
        ),
      ),
    );

    // Assess
    for (const t of ['AAPL', 'AMZN', 'GOOGL', 'META', 'MSFT', 'NVDA']) {
      const latest = rows[t][0];
      expect(latest).toMatchObject({ ticker: t, asOf: session });
      expect(Number(n(latest.rsi))).toBeGreaterThanOrEqual(0);
      expect(Number(n(latest.rsi))).toBeLessThanOrEqual(100);
      expect(Number(n(latest.ma50))).toBeGreaterThan(0);
      const printed = result.report.tickers.find((x: any) => x.ticker === t);
      expect(printed).toMatchObject({
        status: 'fresh',
        asOf: session,
        price: Number(n(latest.price)),
      });
      expect(first.stdout).toMatch(
        new RegExp(
          `${t}\\s+${Number(n(latest.price)).toFixed(2)}\\s+${Number(n(latest.rsi)).toFixed(2)}\\s+${Number(n(latest.ma50)).toFixed(2)}\\s+${session}`,
        ),
      );
    }
    expect(rows.NOSUCHCO).toEqual([]);
    expect(rows.JPM).toEqual([]);
    expect(rows.TSLA).toEqual([]);
  });

  it('reprices every position of active portfolios exactly, the lower-case one too, and leaves inactive ones alone', async () => {
    // Act
    const { positions, prices } = await withData(async (doc) => ({
      positions: await scan(doc, names.positions),
      prices: Object.fromEntries(
        await Promise.all(
          ['NVDA', 'AMZN'].map(
            async (t) =>
              [t, n((await query(doc, names.tickerData, 'ticker', t))[0].price)] as const,
          ),
        ),
      ),
    }));

    // Assess
    const nvda = positions.filter((p) => p.portfolioId === ZSM_SEVEN && p.ticker === 'NVDA');
    const amzn = positions.find((p) => p.ticker === 'amzn')!;
    expect(nvda).toHaveLength(2);
    for (const p of [...nvda, amzn]) {
      const price = p === amzn ? prices.AMZN! : prices.NVDA!;
      const value = new Big(n(p.shares)!).times(price);
      expect(n(p.currentPrice)).toBe(new Big(price).toFixed());
      expect(new Big(n(p.marketValue)!).eq(value)).toBe(true);
      expect(new Big(n(p.unrealizedPL)!).eq(value.minus(n(p.costBasis)!))).toBe(true);
    }
    for (const p of positions.filter((x) => x.portfolioId === OLD_PICKS || x.ticker === 'NOSUCHCO'))
      expect(p.currentPrice).toBeUndefined();
  });

  it('stores one analysis per active portfolio with positions, and prints its scores sorted with the web badges', async () => {
    // Act
    const analyses = await withData(async (doc) => ({
      zsm: await query(doc, names.analyses, 'portfolio', ZSM_SEVEN),
      growth: await query(doc, names.analyses, 'portfolio', GROWTH),
      old: await query(doc, names.analyses, 'portfolio', OLD_PICKS),
      watch: await query(doc, names.analyses, 'portfolio', WATCHLIST),
    }));

    // Assess
    expect(analyses.zsm).toHaveLength(1);
    expect(analyses.growth).toHaveLength(1);
    expect(analyses.old).toEqual([]);
    expect(analyses.watch).toEqual([]);
    const scored = (row: Record<string, unknown>) =>
      (JSON.parse(String(row.parsed_data)) as { ticker: string; score: number }[]).sort(
        (a, b) => b.score - a.score || (a.ticker < b.ticker ? -1 : 1),
      );
    const zsm = scored(analyses.zsm[0]);
    const growth = scored(analyses.growth[0]);
    expect(analyses.zsm[0].dataAsOf).toBe(session);
    expect(zsm.map((s) => s.ticker).sort()).toEqual(['AAPL', 'GOOGL', 'MSFT', 'NVDA']);
    expect(growth.map((s) => s.ticker).sort()).toEqual(['AAPL', 'AMZN', 'META']);
    const reported = result.report.portfolios.find((p: any) => p.id === ZSM_SEVEN).analysis.scores;
    expect(reported.map((s: any) => [s.ticker, s.score, s.badge])).toEqual(
      zsm.map((s) => [s.ticker, s.score, scoreBadge(s.score)]),
    );
    const section = first.stdout.slice(first.stdout.indexOf(`ZSM Seven (${ZSM_SEVEN}`));
    const printedOrder = zsm.map((s) =>
      section.search(new RegExp(`\\s${scoreBadge(s.score)}\\s+${s.ticker}\\s`)),
    );
    expect(printedOrder.every((i) => i > 0)).toBe(true);
    expect([...printedOrder].sort((a, b) => a - b)).toEqual(printedOrder);
    expect(first.stdout).toContain('not scored (no market data): NOSUCHCO');
    expect(first.stdout).toContain(`Old Picks (${OLD_PICKS}`);
    expect(first.stdout).toMatch(/Watchlist \([^)]*\): no positions, not analysed/);
  });

  it('continues from the data directory on a second run: no call for fresh tickers, no second analysis', async () => {
    // Prepare
    const nvdaRowsBefore = await withData(
      async (doc) => (await query(doc, names.tickerData, 'ticker', 'NVDA')).length,
    );

    // Act
    const second = await npm([
      'start',
      '--',
      '--data-dir',
      dataDir,
      '--json',
      path.join(work, 'night-2.json'),
      '--log-file',
      path.join(work, 'night-2.log'),
    ]);
    const secondResult = JSON.parse(readFileSync(path.join(work, 'night-2.json'), 'utf8'));
    const counts = await withData(async (doc) => ({
      zsm: (await query(doc, names.analyses, 'portfolio', ZSM_SEVEN)).length,
      nvdaRows: (await query(doc, names.tickerData, 'ticker', 'NVDA')).length,
    }));

    // Assess
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 items written, 15 already there (kept)');
    // The six fresh tickers cost nothing; only the symbol Polygon does not know may be asked again.
    expect(secondResult.steps.processTicker.polygonCalls).toBeLessThanOrEqual(1);
    expect(secondResult.report.tickers.filter((t: any) => t.status === 'fresh')).toHaveLength(6);
    expect(second.stdout).toContain('"ZSM Seven" already analysed for this data (kept)');
    expect(second.stdout).toContain('RESULT: OK');
    expect(counts.zsm).toBe(1);
    expect(counts.nvdaRows).toBe(nvdaRowsBefore);
  });
});

describe('npm run invoke -- <function> <event> --stage local', () => {
  it('re-runs one analysis with force on the persisted data and stores a new newest row', async () => {
    // Act
    const ran = await npm([
      'run',
      'invoke',
      '--',
      'analyzePortfolio',
      'events/analyze-portfolio/portfolio-id-force.json',
      '--data-dir',
      dataDir,
    ]);
    const rows = await withData((doc) => query(doc, names.analyses, 'portfolio', ZSM_SEVEN));

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('Invoking analyzePortfolio LOCALLY');
    expect(ran.stdout).toMatch(/xAI\s+SIMULATED/);
    expect(ran.stdout).toContain('"status": "stored"');
    expect(ran.stdout).toContain('"message":"Analysis stored"');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ portfolio: ZSM_SEVEN, forced: true });
    expect(ran.stdout).toContain(`"timestamp": "${String(rows[0].timestamp)}"`);
  });

  it('refreshes a ticker held only by an inactive portfolio without repricing its position', async () => {
    // Act
    const ran = await npm([
      'run',
      'invoke',
      '--',
      'processTicker',
      '{"ticker": "tsla"}',
      '--data-dir',
      dataDir,
    ]);
    const { rows, tsla } = await withData(async (doc) => ({
      rows: await query(doc, names.tickerData, 'ticker', 'TSLA'),
      tsla: (await scan(doc, names.positions)).find((p) => p.ticker === 'TSLA'),
    }));

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/"refreshed": \[\s*"TSLA"\s*\]/);
    expect(rows.length).toBeGreaterThan(50);
    expect(tsla?.currentPrice).toBeUndefined();
  });

  it('queues the given tickers and says the local queue now holds the job', async () => {
    // Act
    const ran = await npm([
      'run',
      'invoke',
      '--',
      'processTickers',
      'events/process-tickers/tickers.json',
    ]);

    // Assess
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('"tickersQueued": 2');
    expect(ran.stdout).toContain('DynamoDB in memory');
    expect(ran.stdout).toContain('ticker-processing-queue-local 1 message(s) (DLQ 0)');
  });

  it('reports a function error with Lambda’s error payload and exits 1', async () => {
    // Act
    const ran = await npm([
      'run',
      'invoke',
      '--',
      'analyzePortfolio',
      '{"portfolio_name": "Nobody"}',
    ]);

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('FunctionError: Unhandled');
    expect(ran.stdout).toContain('"errorType": "AnalysisFailedError"');
    expect(ran.stdout).toContain('No portfolio is named \\"Nobody\\"');
  });

  it('exits 2 listing the functions for an unknown one, before starting anything', async () => {
    // Act
    const ran = await npm(['run', 'invoke', '--', 'refreshEverything', '{}']);

    // Assess
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('Unknown function "refreshEverything"');
    expect(ran.stderr).toMatch(
      /processTickers[\s\S]*processTicker[\s\S]*analyzePortfolios[\s\S]*analyzePortfolio/,
    );
    expect(ran.stdout).toBe('');
  });
});

describe('npm start: a night that did not fully succeed', () => {
  it('exits 1 and names the portfolio left without an analysis', async () => {
    // Prepare: one portfolio holds only a symbol Polygon does not know.
    const seed = path.join(work, 'ghosts.json');
    writeFileSync(
      seed,
      JSON.stringify({
        simulator: { unknownTickers: ['GHOST'] },
        users: [
          {
            id: 'u1',
            portfolios: [
              {
                id: 'p-ghosts',
                name: 'Ghosts',
                positions: [{ ticker: 'GHOST', shares: 1, costBasis: 10 }],
              },
              {
                id: 'p-fine',
                name: 'Fine',
                positions: [{ ticker: 'AAPL', shares: 1, costBasis: 100 }],
              },
            ],
          },
        ],
      }),
    );
    const json = path.join(work, 'ghosts-result.json');

    // Act
    const ran = await npm([
      'start',
      '--',
      '--seed',
      seed,
      '--json',
      json,
      '--log-file',
      path.join(work, 'ghosts.log'),
    ]);
    const out = JSON.parse(readFileSync(json, 'utf8'));

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('RESULT: FAILED');
    expect(ran.stdout).toContain('portfolio "Ghosts" (p-ghosts) has no analysis');
    expect(out.ok).toBe(false);
    expect(out.problems).toContain('portfolio "Ghosts" (p-ghosts) has no analysis');
    expect(out.report.portfolios.find((p: any) => p.id === 'p-fine').analysis.scores).toHaveLength(
      1,
    );
  });

  it('exits 2 with the reason for a seed file that does not exist', async () => {
    // Act
    const ran = await npm(['start', '--', '--seed', path.join(work, 'nope.json')]);

    // Assess
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('Cannot read the seed file');
    expect(ran.stderr).toContain('nope.json');
  });
});

describe('npm start -- --nights 7: the score track record appears', () => {
  const nightsDir = path.join(work, 'nights-data');
  let ran: Ran;
  let out: any;

  beforeAll(async () => {
    const json = path.join(work, 'nights.json');
    ran = await npm([
      'start',
      '--',
      '--nights',
      '7',
      '--data-dir',
      nightsDir,
      '--json',
      json,
      '--log-file',
      path.join(work, 'nights.log'),
    ]);
    out = JSON.parse(readFileSync(json, 'utf8'));
  }, 240_000);

  it('plays 7 nights on consecutive NYSE sessions and exits 0', () => {
    // Assess
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/RESULT: OK, 7 complete SIMULATED nights in [\d.]+ s/);
    expect(out).toMatchObject({ ok: true, problems: [] });
    const sessions: string[] = out.nights.map((night: any) => night.session);
    expect(sessions).toHaveLength(7);
    for (let i = 1; i < 7; i++) {
      expect(sessions[i]).toBe(nextTradingDay(sessions[i - 1]));
      // Each later night runs at its 04:30 UTC trigger (TUE-SAT).
      expect(out.nights[i].at).toMatch(/T04:30:/);
      expect([2, 3, 4, 5, 6]).toContain(new Date(out.nights[i].at).getUTCDay());
    }
    for (const session of sessions)
      expect(ran.stdout).toContain(`checkFreshness {} -> fresh: last refreshed session ${session}`);
  });

  it('evaluates nothing before night h + 1 and the first night’s analyses on it', async () => {
    // Act
    const first = await withDir(nightsDir, (doc) =>
      scan(doc, names.analyses).then((rows) =>
        rows.filter((r) => r.dataAsOf === out.nights[0].session),
      ),
    );

    // Assess
    expect(out.nights.map((night: any) => night.evaluated)).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(first).toHaveLength(2);
    for (const row of first) expect(row.evaluation.evaluatedAt).toBe(out.nights[5].session);
    expect(ran.stdout).toMatch(
      new RegExp(`track record grok-[\\w.-]+#v\\d+ \\(${out.nights[5].session}\\): 2 analyses`),
    );
  });

  it('prints the track record in the summary and says the simulator’s scores carry a planted signal', () => {
    // Assess
    expect(ran.stdout).toContain('Score track record (npm run track-record):');
    expect(ran.stdout).toMatch(
      new RegExp(`grok-[\\w.-]+#v\\d+\\s+${out.nights[6].session}\\s+4\\s+\\d+\\s+[\\d.]+ %`),
    );
    expect(ran.stdout).toContain('lean a little towards its own next-5-session returns');
    expect(ran.stdout).toMatch(/night\s+6 .* evaluated 2/);
  });

  it('continues after the last recorded night on a second run with the same --data-dir', async () => {
    // Act
    const json = path.join(work, 'nights-2.json');
    const again = await npm([
      'start',
      '--',
      '--nights',
      '2',
      '--data-dir',
      nightsDir,
      '--json',
      json,
      '--log-file',
      path.join(work, 'nights-2.log'),
    ]);
    const more = JSON.parse(readFileSync(json, 'utf8'));

    // Assess
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`continuing after session ${out.nights[6].session}`);
    expect(more.nights.map((night: any) => night.session)).toEqual([
      nextTradingDay(out.nights[6].session),
      nextTradingDay(nextTradingDay(out.nights[6].session)),
    ]);
    expect(more.nights.map((night: any) => night.evaluated)).toEqual([2, 2]);
  });

  it('lists --nights in --help and refuses it with the real Polygon', async () => {
    // Act
    const help = await npm(['start', '--', '--help']);
    const real = await npm(['start', '--', '--nights', '2'], { POLYGON_API_KEY: 'not-a-key' });

    // Assess
    expect(help.stdout).toContain('--nights N');
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('unset POLYGON_API_KEY');
  });
});
