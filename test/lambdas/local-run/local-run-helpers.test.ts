/**
 * The pieces of `npm start` / `npm run invoke` that need no services: test events, the seed,
 * badges, progress tallies from handler logs, the success checks and the cdk.out bundle lookup.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { normaliseTicker } from '../../../lambdas/platform/events';
import { buildBundles, bundlesFromCdkOut, loadHandler } from '../../../scripts/lib/bundles';
import { FUNCTIONS } from '../../../lib/functions';
import {
  EVENT_SHAPES,
  FUNCTION_NAMES,
  NIGHTLY_FUNCTIONS,
  resolveFunctionName,
  UsageError,
  validateEvent,
} from '../../../scripts/lib/functions';
import {
  newAnalysisTally,
  newRefreshTally,
  tallyAnalysis,
  tallyRefresh,
} from '../../../scripts/lib/night-progress';
import { findProblems, scoreBadge, type NightReport } from '../../../scripts/lib/night-report';
import { parseLogRecords } from '../../../scripts/lib/output-capture';
import { DEFAULT_SEED_FILE, loadSeed, positionId } from '../../../scripts/lib/seed';
import { localEnvironment } from '../../../scripts/lib/local-services';
import { localServiceEnv } from '../../../sim/local-env';
import { defaultLocalTableNames } from '../../../sim/local-tables';
import type { LocalDynamo } from '../../../sim/local-dynamo';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const eventsDir = path.join(repoRoot, 'events');
const tmp = mkdtempSync(path.join(tmpdir(), 'local-run-helpers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('events/', () => {
  const files = readdirSync(eventsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(path.join(eventsDir, d.name))
        .filter((f) => f.endsWith('.json'))
        .map((f) => [d.name, f] as const),
    );

  it.each(files)('%s/%s is an event its function accepts', (dir, file) => {
    // Prepare
    const fn = resolveFunctionName(dir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const event = require(path.join(eventsDir, dir, file)) as unknown;

    // Act / Assess
    expect(() => validateEvent(fn, event)).not.toThrow();
  });

  it('has every manual shape, a scheduled event for both rules and a batch for both queues', () => {
    // Act
    const names = files.map(([dir, file]) => `${dir}/${file}`);

    // Assess
    expect(names).toEqual(
      expect.arrayContaining([
        'process-tickers/nightly.json',
        'process-tickers/tickers.json',
        'process-tickers/scheduled.json',
        'process-ticker/ticker.json',
        'process-ticker/sqs-batch.json',
        'analyze-portfolios/nightly.json',
        'analyze-portfolios/scheduled.json',
        'analyze-portfolio/portfolio-id.json',
        'analyze-portfolio/portfolio-name.json',
        'analyze-portfolio/sqs-batch.json',
      ]),
    );
    for (const fn of NIGHTLY_FUNCTIONS) expect(EVENT_SHAPES[fn]?.length).toBeGreaterThan(0);
  });

  it('has a folder of events for every function of the stack, named after its entry file', () => {
    // Act
    const dirs = new Set(files.map(([dir]) => dir));

    // Assess
    for (const fn of FUNCTION_NAMES)
      expect(dirs).toContain(FUNCTIONS[fn].entryFile.replace(/\.ts$/, ''));
  });

  it('refers to a portfolio of the default seed, by id and by a unique name', () => {
    // Prepare
    const seed = loadSeed(DEFAULT_SEED_FILE);
    const portfolios = seed.users.flatMap((u) => u.portfolios);
    const read = (f: string) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(eventsDir, 'analyze-portfolio', f)) as Record<string, unknown>;
    const batch = read('sqs-batch.json') as { Records: { body: string }[] };

    // Assess
    const byId = portfolios.find((p) => p.id === read('portfolio-id.json').portfolio_id);
    expect(byId?.isActive).not.toBe(false);
    expect(
      portfolios.filter((p) => p.name === read('portfolio-name.json').portfolio_name),
    ).toHaveLength(1);
    const body = JSON.parse(batch.Records[0].body) as { portfolioId: string };
    expect(portfolios.map((p) => p.id)).toContain(body.portfolioId);
  });

  it('resolves function names in any case or kebab-case, and lists the valid ones otherwise', () => {
    // Act / Assess
    expect(resolveFunctionName('process-tickers')).toBe('processTickers');
    expect(resolveFunctionName('ANALYZEPORTFOLIO')).toBe('analyzePortfolio');
    expect(() => resolveFunctionName('processticker2')).toThrow(UsageError);
    expect(() => resolveFunctionName('processticker2')).toThrow(
      /processTickers[\s\S]*processTicker[\s\S]*analyzePortfolios[\s\S]*analyzePortfolio/,
    );
  });
});

describe('seed', () => {
  it('holds an inactive portfolio, a lower-case symbol, a symbol unknown to the simulator and an empty portfolio', () => {
    // Act
    const seed = loadSeed(DEFAULT_SEED_FILE);
    const portfolios = seed.users.flatMap((u) => u.portfolios);
    const raw = portfolios.flatMap((p) => p.positions.map((pos) => pos.ticker));

    // Assess
    expect(portfolios.some((p) => p.isActive === false)).toBe(true);
    expect(portfolios.some((p) => p.isActive === undefined)).toBe(true);
    expect(portfolios.some((p) => p.positions.length === 0)).toBe(true);
    expect(raw.some((t) => t !== t.toUpperCase() && normaliseTicker(t).ok)).toBe(true);
    expect(seed.simulator.unknownTickers.every((t) => raw.includes(t))).toBe(true);
    expect(seed.simulator.unknownTickers.length).toBeGreaterThan(0);
  });

  it('rejects a bad seed naming the file and each bad field', () => {
    // Prepare
    const file = path.join(tmp, 'bad-seed.json');
    writeFileSync(
      file,
      JSON.stringify({
        users: [
          {
            id: 'u1',
            portfolios: [
              {
                id: 'p1',
                name: 'A',
                positions: [{ ticker: 'NVDA', shares: '-1', costBasis: 'x' }],
              },
            ],
          },
        ],
      }),
    );

    // Act / Assess
    expect(() => loadSeed(file)).toThrow(UsageError);
    expect(() => loadSeed(file)).toThrow(
      /bad-seed\.json[\s\S]*users\.0\.portfolios\.0\.positions\.0\.shares: must be a positive decimal[\s\S]*costBasis/,
    );
  });

  it('rejects duplicate portfolio ids and duplicate names of one user', () => {
    // Prepare
    const file = path.join(tmp, 'dup-seed.json');
    const p = { id: 'p1', name: 'Same', positions: [] };
    writeFileSync(file, JSON.stringify({ users: [{ id: 'u1', portfolios: [p, p] }] }));

    // Act / Assess
    expect(() => loadSeed(file)).toThrow(
      /portfolio id p1 is used twice[\s\S]*two portfolios named "Same"/,
    );
  });

  it('derives stable UUID-shaped position ids', () => {
    // Act / Assess
    expect(positionId('p1', 0)).toBe(positionId('p1', 0));
    expect(positionId('p1', 0)).not.toBe(positionId('p1', 1));
    expect(positionId('p1', 0)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(positionId('p1', 0, 'given')).toBe('given');
  });
});

describe('scoreBadge', () => {
  it.each([
    [10, 'strong'],
    [7, 'strong'],
    [6.9, 'good'],
    [4, 'good'],
    [3.9, 'slight'],
    [1, 'slight'],
    [0.9, 'neutral'],
    [-0.9, 'neutral'],
    [-1, 'watch'],
    [-3.9, 'watch'],
    [-4, 'consider reducing'],
    [-6.9, 'consider reducing'],
    [-7, 'consider exiting'],
    [-10, 'consider exiting'],
  ])('gives %d the web client badge "%s"', (score, badge) => {
    // Act / Assess
    expect(scoreBadge(score)).toBe(badge);
  });
});

describe('progress tallies from handler logs', () => {
  it('counts Polygon calls across a deferral and the refreshed and no-data tickers', () => {
    // Prepare
    const tally = newRefreshTally(7);
    const first = parseLogRecords([
      '{"level":"INFO","message":"Refresh planned","strategy":"range","calls":7}',
      '{"level":"INFO","message":"Refresh deferred","reason":"budget","delaySeconds":3,"polygonCalls":5,"remainingCalls":2}',
      '{"_aws":{"CloudWatchMetrics":[]},"PolygonRequests":5}',
      'not json',
    ]);
    const second = parseLogRecords([
      '{"level":"INFO","message":"Refresh done","refreshed":6,"alreadyFresh":0,"noData":1,"noDataExamples":["NOSUCHCO"],"polygonCalls":2,"positions":{"updated":8}}',
    ]);

    // Act
    const line1 = tallyRefresh(tally, first);
    const line2 = tallyRefresh(tally, second);

    // Assess
    expect(line1).toContain('tickers refreshed 0/7 | Polygon calls 5/7');
    expect(line1).toContain('deferred (budget), re-queued with a 3 s SQS delay, 2 call(s) left');
    expect(line2).toContain('tickers refreshed 6/7 (+1 without data) | Polygon calls 7/7');
    expect(tally).toMatchObject({
      deferrals: 1,
      noDataCount: 1,
      noData: ['NOSUCHCO'],
      positionsUpdated: 8,
    });
  });

  it('accepts the refreshed and no-data tickers logged as lists', () => {
    // Prepare
    const tally = newRefreshTally(3);

    // Act
    tallyRefresh(
      tally,
      parseLogRecords([
        '{"level":"INFO","message":"Refresh done","refreshed":["A","B"],"alreadyFresh":0,"noData":["C"],"polygonCalls":1,"positions":{"updated":2}}',
      ]),
    );

    // Assess
    expect(tally).toMatchObject({ refreshed: 2, noDataCount: 1, noData: ['C'] });
  });

  it('counts stored, already analysed and failed analyses by portfolio name', () => {
    // Prepare
    const tally = newAnalysisTally(3);
    const names = new Map([['p1', 'ZSM Seven']]);

    // Act
    const line = tallyAnalysis(
      tally,
      parseLogRecords([
        '{"level":"INFO","message":"Analysis stored","portfolioId":"p1","holdings":4,"costUsd":0.0019}',
        '{"level":"INFO","message":"Analysis skipped: already analysed","portfolioId":"p2"}',
        '{"level":"ERROR","message":"Analysis of portfolio p3 failed (xai-unavailable); the record will be retried","error":"503"}',
      ]),
      names,
    );

    // Assess
    expect(line).toContain('analyses 2/3');
    expect(line).toContain('"ZSM Seven" stored (4 holding(s), $0.0019)');
    expect(tally).toMatchObject({ stored: 1, alreadyAnalysed: 1, failed: 1 });
    expect(tally.errors[0]).toContain('failed (xai-unavailable)');
  });
});

describe('findProblems', () => {
  const good = (): NightReport => ({
    session: '2026-11-20',
    tickers: [
      { ticker: 'NVDA', status: 'fresh', price: 181.5, asOf: '2026-11-20' },
      { ticker: 'NOSUCHCO', status: 'no-data' },
    ],
    invalidTickers: [],
    portfolios: [
      {
        id: 'p1',
        name: 'ZSM Seven',
        userId: 'u1',
        active: true,
        expectsAnalysis: true,
        positions: [{ id: 'pos1', ticker: 'nvda', shares: 1, costBasis: 100, currentPrice: 181.5 }],
        analysis: {
          timestamp: 't',
          dataAsOf: '2026-11-20',
          model: 'grok-4.3',
          missingTickers: [],
          scores: [{ ticker: 'NVDA', score: 3, badge: 'slight', reason: 'r' }],
        },
      },
      {
        id: 'p2',
        name: 'Old',
        userId: 'u1',
        active: false,
        expectsAnalysis: false,
        positions: [{ id: 'pos2', ticker: 'NVDA', shares: 1, costBasis: 100 }],
      },
    ],
    queues: { tickers: { waiting: 0, deadLetters: 0 }, analysis: { waiting: 0, deadLetters: 0 } },
  });

  it('finds nothing wrong with a complete night (inactive positions stay unpriced)', () => {
    // Act / Assess
    expect(findProblems(good())).toEqual([]);
  });

  it('names dead letters, unrefreshed tickers, unpriced positions and missing or old analyses', () => {
    // Prepare
    const r = good();
    const bad: NightReport = {
      ...r,
      tickers: [
        { ticker: 'NVDA', status: 'fresh', price: 181.5, asOf: '2026-11-20' },
        { ticker: 'AAPL', status: 'not-refreshed', asOf: '2026-11-19' },
      ],
      portfolios: [
        { ...r.portfolios[0], positions: [{ ...r.portfolios[0].positions[0], currentPrice: 170 }] },
        { ...r.portfolios[0], id: 'p3', name: 'Growth', analysis: undefined },
        {
          ...r.portfolios[0],
          id: 'p4',
          name: 'Stale',
          analysis: { ...r.portfolios[0].analysis!, dataAsOf: '2026-11-19' },
        },
      ],
      queues: { tickers: { waiting: 0, deadLetters: 1 }, analysis: { waiting: 2, deadLetters: 0 } },
    };

    // Act
    const problems = findProblems(bad);

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        '1 message(s) in the ticker-processing DLQ',
        '2 message(s) still waiting in portfolio-analysis-queue',
        '1 ticker(s) neither refreshed for 2026-11-20 nor reported without data: AAPL (newest row: 2026-11-19)',
        expect.stringContaining(
          'position pos1 (nvda) of "ZSM Seven" has price 170, not the 2026-11-20 close 181.5',
        ),
        'portfolio "Growth" (p3) has no analysis',
        expect.stringContaining(
          'portfolio "Stale" (p4): newest analysis is of data as of 2026-11-19',
        ),
      ]),
    );
  });
});

describe('bundlesFromCdkOut', () => {
  it('finds each function asset through the synthesized template and loads its handler', async () => {
    // Prepare
    const cdkOut = path.join(tmp, 'cdk.out');
    mkdirSync(path.join(cdkOut, 'asset.abc'), { recursive: true });
    writeFileSync(
      path.join(cdkOut, 'asset.abc', 'index.js'),
      'exports.handler = async (event) => ({ echoed: event });',
    );
    writeFileSync(
      path.join(cdkOut, 'svc-dev.template.json'),
      JSON.stringify({
        Resources: {
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              FunctionName: 'zsmseven-backend-processing-api-dev-processTicker',
              Handler: 'index.handler',
            },
            Metadata: { 'aws:asset:path': 'asset.abc' },
          },
        },
      }),
    );

    // Act
    const [bundle] = bundlesFromCdkOut(cdkOut, ['processTicker']);
    const handler = loadHandler(bundle);

    // Assess
    expect(bundle).toMatchObject({ fn: 'processTicker', origin: 'cdk-out', exportName: 'handler' });
    expect(bundle.file).toBe(path.join(cdkOut, 'asset.abc', 'index.js'));
    await expect(handler({ ticker: 'NVDA' }, {} as never)).resolves.toEqual({
      echoed: { ticker: 'NVDA' },
    });
    expect(() => bundlesFromCdkOut(cdkOut, ['processTicker', 'analyzePortfolio'])).toThrow(
      /No bundle for analyzePortfolio[\s\S]*npm run synth/,
    );
  });
});

describe('buildBundles', () => {
  it('builds a loadable handler bundle once and reuses it while its inputs are unchanged', async () => {
    // Prepare
    const outDir = path.join(tmp, 'bundles');

    // Act
    const [first] = await buildBundles(['checkFreshness'], outDir);
    const [second] = await buildBundles(['checkFreshness'], outDir);

    // Assess
    expect(first).toMatchObject({ origin: 'esbuild', rebuilt: true, exportName: 'handler' });
    expect(second).toMatchObject({ file: first.file, rebuilt: false });
    expect(readFileSync(first.file, 'utf8')).not.toMatch(/require\(["']@aws-sdk\/client-dynamodb/);
    expect(typeof loadHandler(second)).toBe('function');
  });
});

describe('localEnvironment', () => {
  const build = (env: NodeJS.ProcessEnv) =>
    localEnvironment({
      logLevel: 'INFO',
      local: localServiceEnv({
        endpoint: 'http://127.0.0.1:1',
        names: defaultLocalTableNames('local'),
      } as unknown as LocalDynamo),
      sqsEndpoint: 'http://127.0.0.1:2',
      queueUrls: { tickers: 'http://q/tickers', analysis: 'http://q/analysis' },
      upstreams: {
        polygon: { mode: 'simulated', url: 'http://127.0.0.1:3' },
        xai: { mode: 'simulated', url: 'http://127.0.0.1:4/v1/chat/completions' },
      },
      polygonSimulated: true,
      xaiKey: 'xai-simulator-key',
      timeScale: 30,
      env,
    });

  it.each(Object.keys(FUNCTIONS))(
    'sets every variable %s reads (a plain key for a secret)',
    (fn) => {
      // Act
      const contract = build({});

      // Assess
      for (const key of FUNCTIONS[fn as keyof typeof FUNCTIONS].environment) {
        if (key === 'ANALYSIS_EVENT_SOURCE_MAPPING_ID') {
          // No mapping locally: the derived concurrency is only logged.
          expect(contract[key]).toBeUndefined();
        } else if (key.endsWith('_SECRET')) {
          expect(contract[key]).toBeUndefined();
          expect(contract[key.slice(0, -'_SECRET'.length)]).toEqual(expect.any(String));
        } else {
          expect(contract[key]).toEqual(expect.any(String));
        }
      }
    },
  );

  it('compresses the Polygon budget window with the simulated clock', () => {
    // Act
    const contract = build({ POLYGON_REQUESTS_PER_MINUTE: '100' });

    // Assess
    expect(contract.POLYGON_BUDGET_WINDOW_MS).toBe('2000');
    expect(contract.POLYGON_REQUESTS_PER_MINUTE).toBe('5');
    expect(contract.SQS_QUEUE_URL).toBe('http://q/tickers');
  });
});
