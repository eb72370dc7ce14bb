import Big from 'big.js';
import { analyzePortfolioFlow } from '../../../lambdas/analysis/flows';
import { analyzePortfoliosFlow } from '../../../lambdas/analysis/fan-out';
import { analysisKey } from '../../../lambdas/analysis/claim';
import { AnalysisFailedError } from '../../../lambdas/analysis/failures';
import {
  COMPLETION_TOKENS_MAX,
  completionTokenBudget,
} from '../../../lambdas/analysis/analysis-row';
import type {
  AnalysisMetric,
  AnalyzePortfolioDeps,
  AnalyzePortfoliosDeps,
} from '../../../lambdas/analysis/ports';
import type {
  AnalysisMessage,
  AnalysisRow,
  BatchAnalysisResult,
  ClaimRequest,
  CompletionRequest,
  CompletionResult,
  ManualAnalysisResult,
  XaiFailureInfo,
} from '../../../lambdas/analysis/types';
import type { Portfolio } from '../../../lambdas/portfolios/portfolio-repository';
import {
  selectMarketRow,
  summarizeHoldings,
  type MarketRow,
  type PositionRecord,
} from '../../../lambdas/analysis/domain/holdings';
import { PROMPT_VERSION } from '../../../lambdas/analysis/domain/prompt';
import { parseAnalyzePortfolioEvent } from '../../../lambdas/handlers/events';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import { createSqsEvent } from '../../helpers/events';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');
const MODEL = 'grok-4.3';

const ownRow = (
  ticker: string,
  asOf: string,
  price: number,
  extra: Record<string, unknown> = {},
) => ({
  ticker,
  asOf,
  timestamp: sessionCloseIso(asOf),
  price,
  rsi: 50,
  ma50: price,
  ...extra,
});

const position = (
  id: string,
  ticker: string,
  shares: string,
  costBasis: string,
  extra: Partial<PositionRecord> = {},
): PositionRecord => ({
  id,
  ticker,
  shares,
  costBasis,
  ...extra,
});

interface Claim {
  status: 'in-progress' | 'done';
  owner: string;
  leaseUntil?: number;
  claimedAt: string;
  analysisTimestamp?: string;
}

class XaiFailure extends Error {
  constructor(readonly info: XaiFailureInfo) {
    super(info.message);
  }
}

/** Plain in-memory fakes with the same rules as the adapters. */
function fakeAnalysis(
  init: {
    portfolios?: Portfolio[];
    positions?: Record<string, PositionRecord[]>;
    tickerItems?: Record<string, Record<string, unknown>[]>;
  } = {},
) {
  const portfolios = init.portfolios ?? [{ id: 'p1', name: 'ZSM Seven', userId: 'u1' }];
  const positions = init.positions ?? {
    p1: [position('a', 'NVDA', '10', '1000'), position('b', 'AAPL', '5', '1000')],
  };
  const tickerItems: Record<string, Record<string, unknown>[]> = init.tickerItems ?? {
    NVDA: [ownRow('NVDA', '2026-11-23', 150, { rsi: 72, ma50: 130 })],
    AAPL: [ownRow('AAPL', '2026-11-23', 200, { rsi: 40, ma50: 210 })],
  };
  const claims = new Map<string, Claim>();
  const rows: AnalysisRow[] = [];
  const requests: CompletionRequest[] = [];
  const counts = new Map<AnalysisMetric, number>();
  const logs: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const correlations: string[] = [];
  let clock = NOW;
  let ids = 0;
  let failNext: XaiFailureInfo | undefined;
  let answer: ((tickers: string[]) => string) | undefined;

  const store: AnalyzePortfolioDeps['store'] = {
    claim: async (key, req: ClaimRequest) => {
      const held = claims.get(key);
      const free =
        !held ||
        (req.force
          ? held.status === 'done' || (held.leaseUntil ?? 0) < req.now
          : held.status === 'in-progress' && (held.leaseUntil ?? 0) < req.now);
      if (!free) {
        return held.status === 'done'
          ? { status: 'done', analysisTimestamp: held.analysisTimestamp }
          : { status: 'in-progress', claimedAt: held.claimedAt, leaseUntil: held.leaseUntil };
      }
      claims.set(key, {
        status: 'in-progress',
        owner: req.owner,
        leaseUntil: req.leaseUntil,
        claimedAt: new Date(req.now).toISOString(),
      });
      if (!held) return { status: 'claimed' };
      return { status: 'claimed', tookOver: held.status === 'done' ? 'forced' : 'stale' };
    },
    completeClaim: async (key, owner, done) => {
      const held = claims.get(key);
      if (held?.owner !== owner) throw new Error('not the owner');
      claims.set(key, {
        ...held,
        status: 'done',
        analysisTimestamp: done.analysisTimestamp,
        leaseUntil: undefined,
      });
    },
    releaseClaim: async (key, owner) => {
      if (claims.get(key)?.owner === owner) claims.delete(key);
    },
    putAnalysis: async (row) => {
      rows.push(row);
      return row.timestamp;
    },
    getAnalysis: async (id, ts) => {
      const row = rows.find((r) => r.portfolio === id && r.timestamp === ts);
      return row ? { ...row } : undefined;
    },
    latestAnalyses: async (id, limit) =>
      rows
        .filter((r) => r.portfolio === id)
        .sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1))
        .slice(0, limit)
        .map((r) => ({ ...r })),
  };
  const complete = async (request: CompletionRequest): Promise<CompletionResult> => {
    requests.push(request);
    if (failNext) {
      const info = failNext;
      failNext = undefined;
      throw new XaiFailure(info);
    }
    const schema = request.schema as {
      properties: { scores: { items: { properties: { ticker: { enum: string[] } } } } };
    };
    const tickers = schema.properties.scores.items.properties.ticker.enum;
    const content = answer
      ? answer(tickers)
      : JSON.stringify({
          scores: tickers.map((t, i) => ({ ticker: t, score: i - 1, reason: `reason ${t}` })),
        });
    return {
      id: `resp-${requests.length}`,
      model: `${MODEL}-0512`,
      content,
      usage: {
        promptTokens: 900,
        completionTokens: 60,
        totalTokens: 1260,
        reasoningTokens: 300,
        costInUsdTicks: 19_500_000,
      },
      attempts: 1,
    };
  };
  const deps: AnalyzePortfolioDeps = {
    portfolios: {
      getPortfolio: async (id) => portfolios.find((p) => p.id === id),
      findPortfoliosByName: async (name) => portfolios.filter((p) => p.name === name),
      positionsOf: async (id) => positions[id] ?? [],
    },
    marketRows: { latestRows: async (t) => tickerItems[t] ?? [] },
    store,
    xai: { complete },
    classify: (err) =>
      err instanceof XaiFailure ? err.info : { kind: 'other', message: String(err) },
    runtime: {
      model: MODEL,
      now: () => clock,
      remainingMs: () => 170_000,
      newId: () => `id-${++ids}`,
      concurrency: 4,
    },
    obs: {
      count: (metric, value) => counts.set(metric, (counts.get(metric) ?? 0) + value),
      log: (level, message, data) => logs.push({ level, message, data }),
      correlate: (runId) => correlations.push(runId),
    },
  };
  return {
    deps,
    correlations,
    claims,
    rows,
    requests,
    counts,
    logs,
    advance: (ms: number) => (clock += ms),
    failNextWith: (info: XaiFailureInfo) => (failNext = info),
    answerWith: (fn: (tickers: string[]) => string) => (answer = fn),
  };
}

const sqs = (...bodies: unknown[]) =>
  parseAnalyzePortfolioEvent(createSqsEvent(bodies, 'portfolio-analysis-queue-test'));
const message = (portfolioId = 'p1', extra: Partial<AnalysisMessage> = {}): AnalysisMessage => ({
  v: 1,
  portfolioId,
  runId: 'run-1',
  ...extra,
});

describe('selectMarketRow', () => {
  it('prefers this service’s newest session over old Python rows', () => {
    // Prepare
    const items = [
      {
        ticker: 'NVDA',
        timestamp: '2026-11-24T04:31:12.123456',
        price: 999,
        asOf: '2026-11-24T04:31:12.123456',
      },
      ownRow('NVDA', '2026-11-20', 140),
      ownRow('NVDA', '2026-11-23', 150),
    ];

    // Act
    const row = selectMarketRow(items);

    // Assess
    expect(row).toEqual({ price: 150, asOf: '2026-11-23', rsi: 50, ma50: 150, legacy: false });
  });

  it('falls back to the newest old Python row, reading a timestamp without zone as UTC', () => {
    // Prepare
    const items = [
      { ticker: 'NVDA', timestamp: '2026-11-21T03:30:00.123456', price: 141.5, rsi: 61.2 },
      { ticker: 'NVDA', timestamp: '2026-11-18T03:30:00.123456', price: 139 },
    ];

    // Act
    const row = selectMarketRow(items);

    // Assess
    expect(row).toEqual({
      price: 141.5,
      asOf: '2026-11-20',
      rsi: 61.2,
      ma50: undefined,
      legacy: true,
    });
  });

  it('returns nothing when no row has a usable price', () => {
    // Act
    const row = selectMarketRow([{ ticker: 'X', timestamp: '2026-11-21T03:30:00', price: 'n/a' }]);

    // Assess
    expect(row).toBeUndefined();
  });
});

describe('summarizeHoldings', () => {
  const data = (asOf: string, price: number): MarketRow => ({ price, asOf, legacy: false });

  it('aggregates lots per ticker with exact decimal market values, weights and P/L', () => {
    // Prepare
    const positions = [
      position('1', 'nvda', '0.1', '10'),
      position('2', ' NVDA', '0.2', '20'),
      position('3', 'AAPL', '3', '660'),
    ];
    const rows = new Map([
      ['NVDA', data('2026-11-23', 3)],
      ['AAPL', data('2026-11-23', 200)],
    ]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    const nvda = summary.holdings.find((h) => h.ticker === 'NVDA')!;
    const aapl = summary.holdings.find((h) => h.ticker === 'AAPL')!;
    expect(nvda).toMatchObject({
      positions: 2,
      shares: '0.3',
      costBasis: '30',
      marketValue: '0.9',
    });
    expect(aapl.marketValue).toBe('600');
    expect(nvda.weightPercent).toBe(Number(new Big('0.9').div('600.9').times(100).toFixed(4)));
    expect(nvda.plPercent).toBe(-97);
    expect(aapl.plPercent).toBe(Number(new Big(-60).div(660).times(100).toFixed(4)));
    expect(summary.holdings.map((h) => h.ticker)).toEqual(['AAPL', 'NVDA']);
    expect(nvda.weightPercent! + aapl.weightPercent!).toBeCloseTo(100, 3);
  });

  it('takes the newest session as dataAsOf and names older holdings as stale and data-less ones as missing', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', '1', '1'),
      position('2', 'AAPL', '1', '1'),
      position('3', 'XYZ', '1', '1'),
    ];
    const rows = new Map<string, MarketRow | undefined>([
      ['NVDA', data('2026-11-20', 10)],
      ['AAPL', data('2026-11-23', 10)],
      ['XYZ', undefined],
    ]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    expect(summary.dataAsOf).toBe('2026-11-23');
    expect(summary.stale).toEqual(['NVDA']);
    expect(summary.missing).toEqual(['XYZ']);
  });

  it('values a holding without market data by its stored marketValue so the weights stay honest', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', '1', '50'),
      position('2', 'XYZ', '2', '40', { marketValue: '100' }),
    ];
    const rows = new Map<string, MarketRow | undefined>([['NVDA', data('2026-11-23', 100)]]);

    // Act
    const summary = summarizeHoldings(positions, rows);

    // Assess
    expect(summary.holdings.map((h) => [h.ticker, h.weightPercent])).toEqual([
      ['NVDA', 50],
      ['XYZ', 50],
    ]);
    expect(summary.holdings.find((h) => h.ticker === 'XYZ')?.plPercent).toBe(150);
  });

  it('leaves out positions with unusable shares or tickers and says why', () => {
    // Prepare
    const positions = [
      position('1', 'NVDA', 'abc', '1'),
      position('2', '', '1', '1'),
      position('3', 'AAPL', '1', '1'),
    ];

    // Act
    const summary = summarizeHoldings(positions, new Map([['AAPL', data('2026-11-23', 1)]]));

    // Assess
    expect(summary.holdings.map((h) => h.ticker)).toEqual(['AAPL']);
    expect(summary.invalidPositions.map((p) => p.id)).toEqual(['1', '2']);
  });
});

describe('completionTokenBudget', () => {
  it('grows with the number of tickers and is capped', () => {
    // Act
    const small = completionTokenBudget(3);
    const large = completionTokenBudget(30);
    const huge = completionTokenBudget(10_000);

    // Assess
    expect(large).toBeGreaterThan(small);
    expect(huge).toBe(COMPLETION_TOKENS_MAX);
  });
});

describe('analyzePortfoliosFlow', () => {
  function fanOutDeps(failedIndexes: number[] = []) {
    const sent: AnalysisMessage[][] = [];
    const counts = new Map<string, number>();
    const correlations: string[] = [];
    const deps: AnalyzePortfoliosDeps = {
      portfolios: {
        activePortfolios: async () => [{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }],
        hasPositions: async (id) => id !== 'p2',
      },
      queue: {
        sendAll: async (messages) => {
          sent.push([...messages]);
          const failed = failedIndexes.map((index) => ({ index, reason: 'InternalError: boom' }));
          return { sent: messages.length - failed.length, failed };
        },
      },
      obs: {
        count: (m, v) => counts.set(m, (counts.get(m) ?? 0) + v),
        log: () => undefined,
        correlate: (runId) => correlations.push(runId),
      },
      newRunId: () => 'run-7',
      concurrency: 2,
    };
    return { deps, sent, counts, correlations };
  }

  it('queues one message per active portfolio with positions and counts the skipped ones', async () => {
    // Prepare
    const { deps, sent, counts, correlations } = fanOutDeps();

    // Act
    const result = await analyzePortfoliosFlow({ kind: 'nightly' }, deps);
    expect(correlations).toEqual(['run-7']);

    // Assess
    expect(result).toEqual({ runId: 'run-7', found: 3, queued: 2, skipped: { noPositions: 1 } });
    expect(sent).toEqual([
      [
        { v: 1, portfolioId: 'p1', runId: 'run-7' },
        { v: 1, portfolioId: 'p3', runId: 'run-7' },
      ],
    ]);
    expect(counts.get('AnalysesQueued')).toBe(2);
  });

  it('fails the run saying how many messages could not be queued', async () => {
    // Prepare
    const { deps } = fanOutDeps([1]);

    // Act
    const run = analyzePortfoliosFlow({ kind: 'nightly' }, deps);

    // Assess
    await expect(run).rejects.toThrow(
      /1 of 2 analysis messages could not be queued.*InternalError: boom/,
    );
  });
});

describe('analyzePortfolioFlow (queue records)', () => {
  it('stores one row with single-encoded parsed_data, usage and the prompt version', async () => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    const result = (await analyzePortfolioFlow(sqs(message()), f.deps)) as BatchAnalysisResult;

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.correlations).toEqual(['run-1']);
    expect(f.rows).toHaveLength(1);
    const row = f.rows[0];
    expect(row).toMatchObject({
      portfolio: 'p1',
      timestamp: '2026-11-24T06:00:00.000Z',
      portfolioName: 'ZSM Seven',
      model: `${MODEL}-0512`,
      requestedModel: MODEL,
      dataAsOf: '2026-11-23',
      promptVersion: PROMPT_VERSION,
      promptTokens: 900,
      completionTokens: 60,
      totalTokens: 1260,
      costInUsdTicks: 19_500_000,
      costUsd: 0.00195,
    });
    expect(row.prompt).toContain(`[system prompt ${PROMPT_VERSION}]`);
    const parsed = JSON.parse(row.parsed_data) as Record<string, unknown>[];
    expect(parsed.map((e) => e.ticker)).toEqual(['NVDA', 'AAPL']);
    expect(parsed[0]).toMatchObject({
      score: -1,
      reason: 'reason NVDA',
      price: 150,
      rsi: 72,
      ma50: 130,
      asOf: '2026-11-23',
      weight_percent: 60,
      pl_percent: 50,
    });
    expect(f.counts.get('AnalysesStored')).toBe(1);
    expect(f.counts.get('XaiCostUsd')).toBeCloseTo(0.00195, 10);
  });

  it('asks xAI at temperature 0 with a completion cap sized to the holdings', async () => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0].temperature).toBe(0);
    expect(f.requests[0].maxCompletionTokens).toBe(completionTokenBudget(2));
  });

  it('names tickers without market data in the prompt and does not score them', async () => {
    // Prepare
    const f = fakeAnalysis({
      positions: { p1: [position('a', 'NVDA', '1', '100'), position('b', 'NEWCO', '1', '10')] },
    });

    // Act
    await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(f.requests[0].user).toContain('No market data, do not score: NEWCO');
    expect(JSON.parse(f.rows[0].parsed_data).map((e: { ticker: string }) => e.ticker)).toEqual([
      'NVDA',
    ]);
    expect(f.rows[0].missingTickers).toEqual(['NEWCO']);
  });

  it('acknowledges a malformed body, logging its messageId and counting it', async () => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    const result = await analyzePortfolioFlow(sqs('not json', { v: 2, portfolioId: 'p1' }), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.counts.get('MalformedMessages')).toBe(2);
    expect(f.logs.filter((l) => l.level === 'error').map((l) => l.data?.messageId)).toEqual([
      'msg-1',
      'msg-2',
    ]);
    expect(f.requests).toHaveLength(0);
  });

  it('skips an already analysed portfolio without calling xAI again', async () => {
    // Prepare
    const f = fakeAnalysis();
    await analyzePortfolioFlow(sqs(message()), f.deps);
    f.advance(60_000);

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.requests).toHaveLength(1);
    expect(f.rows).toHaveLength(1);
    expect(f.counts.get('AnalysesSkipped')).toBe(1);
  });

  it('acknowledges a duplicate while another attempt holds a live claim', async () => {
    // Prepare
    const f = fakeAnalysis();
    const key = analysisKey({
      portfolioId: 'p1',
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      dataAsOf: '2026-11-23',
    });
    f.claims.set(key, {
      status: 'in-progress',
      owner: 'other',
      leaseUntil: NOW + 60_000,
      claimedAt: 'earlier',
    });

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.requests).toHaveLength(0);
    expect(f.claims.get(key)?.owner).toBe('other');
    expect(f.counts.get('AnalysesSkipped')).toBe(1);
  });

  it('takes over a claim whose lease ran out (a crashed attempt) and stores the analysis', async () => {
    // Prepare
    const f = fakeAnalysis();
    const key = analysisKey({
      portfolioId: 'p1',
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      dataAsOf: '2026-11-23',
    });
    f.claims.set(key, {
      status: 'in-progress',
      owner: 'crashed',
      leaseUntil: NOW - 1,
      claimedAt: 'long ago',
    });

    // Act
    await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(f.rows).toHaveLength(1);
    expect(f.claims.get(key)).toMatchObject({
      status: 'done',
      analysisTimestamp: f.rows[0].timestamp,
    });
  });

  it('completes a lapsed claim whose attempt had stored its row before dying, without calling xAI again', async () => {
    // Prepare: an attempt stored the row, then was killed before marking its claim done.
    const f = fakeAnalysis();
    await analyzePortfolioFlow(sqs(message()), f.deps);
    const key = analysisKey({
      portfolioId: 'p1',
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      dataAsOf: '2026-11-23',
    });
    const stored = f.rows[0].timestamp;
    f.claims.set(key, {
      status: 'in-progress',
      owner: 'killed',
      leaseUntil: NOW - 1,
      claimedAt: 'long ago',
    });
    f.advance(60_000);

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.requests).toHaveLength(1);
    expect(f.rows).toHaveLength(1);
    expect(f.claims.get(key)).toMatchObject({ status: 'done', analysisTimestamp: stored });
    expect(f.counts.get('AnalysesSkipped')).toBe(1);
  });

  it('fails the record, stores nothing and releases the claim when xAI stays unavailable', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.failNextWith({ kind: 'unavailable', message: 'XaiServerError: xAI 500' });

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(f.rows).toHaveLength(0);
    expect(f.claims.size).toBe(0);
    expect(f.counts.get('AnalysisFailures')).toBe(1);
    const error = f.logs.find((l) => l.level === 'error');
    expect(error?.data).toMatchObject({
      portfolioId: 'p1',
      kind: 'xai-unavailable',
      messageId: 'msg-1',
    });
  });

  it.each([
    ['credits-exhausted', 'XaiCreditsExhausted'],
    ['auth', 'XaiAuthErrors'],
  ] as const)(
    'fails the record on %s so it reaches the DLQ, and counts %s',
    async (kind, metric) => {
      // Prepare
      const f = fakeAnalysis();
      f.failNextWith({ kind, message: `xAI said ${kind}` });

      // Act
      const result = await analyzePortfolioFlow(sqs(message()), f.deps);

      // Assess
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
      expect(f.counts.get(metric)).toBe(1);
      expect(f.counts.get('AnalysisFailures')).toBe(1);
    },
  );

  it('counts the tokens of a billed but truncated answer and fails the record', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.failNextWith({
      kind: 'truncated',
      message: 'cut',
      usage: {
        promptTokens: 800,
        completionTokens: 2000,
        totalTokens: 2800,
        costInUsdTicks: 60_000_000,
      },
    });

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(f.counts.get('XaiCompletionTokens')).toBe(2000);
    expect(f.counts.get('XaiCostUsd')).toBeCloseTo(0.006, 10);
  });

  it('rejects an answer with an out-of-range score instead of storing it', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.answerWith((tickers) =>
      JSON.stringify({ scores: tickers.map((t) => ({ ticker: t, score: 15, reason: 'x' })) }),
    );

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(f.rows).toHaveLength(0);
    expect(f.logs.find((l) => l.level === 'error')?.data?.kind).toBe('invalid-answer');
  });

  it('acknowledges a portfolio with no market data at all without calling xAI, loudly', async () => {
    // Prepare
    const f = fakeAnalysis({ tickerItems: {} });

    // Act
    const result = await analyzePortfolioFlow(sqs(message()), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.requests).toHaveLength(0);
    expect(f.counts.get('AnalysisFailures')).toBe(1);
    const error = f.logs.find((l) => l.level === 'error');
    expect(error?.data).toMatchObject({ portfolioId: 'p1', kind: 'no-market-data' });
    expect(String(error?.data?.error)).toMatch(/No market data yet/);
  });

  it('acknowledges a record whose portfolio was deleted or deactivated since it was queued', async () => {
    // Prepare
    const f = fakeAnalysis({ portfolios: [{ id: 'p1', name: 'Off', isActive: false }] });

    // Act
    const result = await analyzePortfolioFlow(sqs(message('p1'), message('gone')), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.requests).toHaveLength(0);
    expect(f.counts.get('AnalysesSkipped')).toBe(2);
    expect(f.counts.get('AnalysisFailures')).toBeUndefined();
  });

  it('reports only the failed record of a batch', async () => {
    // Prepare
    const f = fakeAnalysis({
      portfolios: [{ id: 'p1' }, { id: 'p2' }],
      positions: { p1: [position('a', 'NVDA', '1', '1')], p2: [position('b', 'AAPL', '1', '1')] },
    });
    f.failNextWith({ kind: 'unavailable', message: '503' });

    // Act
    const result = await analyzePortfolioFlow(sqs(message('p1'), message('p2')), f.deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(f.rows.map((r) => r.portfolio)).toEqual(['p2']);
  });
});

describe('analyzePortfolioFlow (manual invocations)', () => {
  it('returns the stored analysis summary', async () => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    const result = (await analyzePortfolioFlow(
      { kind: 'byId', portfolioId: 'p1', force: false },
      f.deps,
    )) as ManualAnalysisResult;

    // Assess
    expect(result).toEqual({
      status: 'stored',
      analysis: expect.objectContaining({
        portfolio: 'p1',
        portfolioName: 'ZSM Seven',
        timestamp: '2026-11-24T06:00:00.000Z',
        dataAsOf: '2026-11-23',
        scores: [
          { ticker: 'NVDA', score: -1 },
          { ticker: 'AAPL', score: 0 },
        ],
      }),
    });
  });

  it('returns the earlier analysis as skipped, and re-runs it with force', async () => {
    // Prepare
    const f = fakeAnalysis();
    await analyzePortfolioFlow({ kind: 'byId', portfolioId: 'p1', force: false }, f.deps);
    f.advance(1_000);

    // Act
    const skipped = await analyzePortfolioFlow(
      { kind: 'byId', portfolioId: 'p1', force: false },
      f.deps,
    );
    const forced = await analyzePortfolioFlow(
      { kind: 'byId', portfolioId: 'p1', force: true },
      f.deps,
    );

    // Assess
    expect(skipped).toMatchObject({
      status: 'skipped',
      reason: 'already-analysed',
      analysis: { timestamp: '2026-11-24T06:00:00.000Z' },
    });
    expect((skipped as { message: string }).message).toMatch(/"force": true/);
    expect(forced).toMatchObject({
      status: 'stored',
      analysis: { timestamp: '2026-11-24T06:00:01.000Z' },
    });
    expect(f.rows).toHaveLength(2);
    expect(f.rows[1].forced).toBe(true);
  });

  it('refuses an ambiguous name, listing the matching ids, and writes nothing', async () => {
    // Prepare
    const f = fakeAnalysis({
      portfolios: [
        { id: 'p2', name: 'Growth', userId: 'u2' },
        { id: 'p1', name: 'Growth', userId: 'u1' },
      ],
    });

    // Act
    const run = analyzePortfolioFlow(
      { kind: 'byName', portfolioName: 'Growth', force: false },
      f.deps,
    );

    // Assess
    await expect(run).rejects.toThrow(
      /2 portfolios are named "Growth": p1 \(user u1\), p2 \(user u2\)/,
    );
    expect(f.requests).toHaveLength(0);
    expect(f.rows).toHaveLength(0);
    expect(f.claims.size).toBe(0);
  });

  it.each([
    [{ kind: 'byId' as const, portfolioId: 'nope', force: false }, /No portfolio with id "nope"/],
    [
      { kind: 'byName' as const, portfolioName: 'Nope', force: false },
      /No portfolio is named "Nope"/,
    ],
  ])('throws a clear error for an unknown portfolio (%o)', async (event, expected) => {
    // Prepare
    const f = fakeAnalysis();

    // Act
    const run = analyzePortfolioFlow(event, f.deps);

    // Assess
    await expect(run).rejects.toThrow(expected);
  });

  it('throws for an inactive portfolio instead of analysing it', async () => {
    // Prepare
    const f = fakeAnalysis({ portfolios: [{ id: 'p1', name: 'Off', isActive: false }] });

    // Act
    const run = analyzePortfolioFlow({ kind: 'byId', portfolioId: 'p1', force: true }, f.deps);

    // Assess
    await expect(run).rejects.toThrow(/inactive/);
    expect(f.requests).toHaveLength(0);
  });

  it('throws the failure of its analysis with its kind, never returning success', async () => {
    // Prepare
    const f = fakeAnalysis();
    f.failNextWith({ kind: 'credits-exhausted', message: 'xAI 429: credits exhausted' });

    // Act
    const run = analyzePortfolioFlow({ kind: 'byId', portfolioId: 'p1', force: false }, f.deps);

    // Assess
    await expect(run).rejects.toBeInstanceOf(AnalysisFailedError);
    await expect(run).rejects.toMatchObject({
      kind: 'xai-credits-exhausted',
      message: 'xAI 429: credits exhausted',
      portfolioId: 'p1',
    });
    expect(f.rows).toHaveLength(0);
  });

  it('throws while another invocation is analysing the same data, even with force', async () => {
    // Prepare
    const f = fakeAnalysis();
    const key = analysisKey({
      portfolioId: 'p1',
      model: MODEL,
      promptVersion: PROMPT_VERSION,
      dataAsOf: '2026-11-23',
    });
    f.claims.set(key, {
      status: 'in-progress',
      owner: 'other',
      leaseUntil: NOW + 60_000,
      claimedAt: 'now',
    });

    // Act
    const run = analyzePortfolioFlow({ kind: 'byId', portfolioId: 'p1', force: true }, f.deps);

    // Assess
    await expect(run).rejects.toThrow(/Another invocation is analysing portfolio p1/);
    expect(f.requests).toHaveLength(0);
  });
});
