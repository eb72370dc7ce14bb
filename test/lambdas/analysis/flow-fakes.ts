import type { AnalysisMetric, AnalyzePortfolioDeps } from '../../../lambdas/analysis/ports';
import type {
  AnalysisMessage,
  AnalysisRow,
  ClaimRequest,
  CompletionRequest,
  CompletionResult,
  FailureMark,
} from '../../../lambdas/analysis/types';
import type { Portfolio } from '../../../lambdas/portfolios/portfolio-repository';
import type { PositionRecord } from '../../../lambdas/analysis/domain/holdings';
import { parseAnalyzePortfolioEvent } from '../../../lambdas/platform/events';
import { sessionCloseIso } from '../../../lambdas/platform/ny-time';
import { createSqsEvent } from '../../helpers/events';

/** In-memory fakes of the analysis ports, with the same rules as the adapters. */

export const NOW = Date.parse('2026-11-24T06:00:00.000Z');
export const MODEL = 'grok-4.3';

export const ownRow = (
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

export const position = (
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

export interface Claim {
  status: 'in-progress' | 'done';
  owner: string;
  leaseUntil?: number;
  claimedAt: string;
  analysisTimestamp?: string;
}

/** Plain in-memory fakes with the same rules as the adapters. */
export function fakeAnalysis(
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
  let failNext: Error | undefined;
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
  const marks = new Map<string, FailureMark>();
  const failureMarks: AnalyzePortfolioDeps['marks'] = {
    markFailure: async (key, mark) => {
      const count = (marks.get(key)?.count ?? 0) + 1;
      marks.set(key, { kind: mark.kind, message: mark.message, holdUntil: mark.holdUntil, count });
      return count;
    },
    failureMark: async (key) => marks.get(key),
  };
  const spent = new Map<string, { spentUsd: number; admitted: number }>();
  const spend: AnalyzePortfolioDeps['spend'] = {
    admit: async (night, capUsd) => {
      const item = spent.get(night) ?? { spentUsd: 0, admitted: 0 };
      if (item.spentUsd >= capUsd) return { admitted: false, spentUsd: item.spentUsd, capUsd };
      spent.set(night, { ...item, admitted: item.admitted + 1 });
      return { admitted: true };
    },
    addSpend: async (night, usd) => {
      const item = spent.get(night) ?? { spentUsd: 0, admitted: 0 };
      spent.set(night, { ...item, spentUsd: item.spentUsd + usd });
      return item.spentUsd + usd;
    },
  };
  const complete = async (request: CompletionRequest): Promise<CompletionResult> => {
    requests.push(request);
    if (failNext) {
      const error = failNext;
      failNext = undefined;
      throw error;
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
    marks: failureMarks,
    spend,
    xai: { complete },
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
    marks,
    spent,
    rows,
    requests,
    counts,
    logs,
    advance: (ms: number) => (clock += ms),
    /** The next completion throws `error` (an XaiError, as the client would). */
    failNextWith: (error: Error) => (failNext = error),
    answerWith: (fn: (tickers: string[]) => string) => (answer = fn),
  };
}

export const sqs = (...bodies: unknown[]) =>
  parseAnalyzePortfolioEvent(createSqsEvent(bodies, 'portfolio-analysis-queue-test'));
export const message = (
  portfolioId = 'p1',
  extra: Partial<AnalysisMessage> = {},
): AnalysisMessage => ({
  v: 1,
  portfolioId,
  runId: 'run-1',
  ...extra,
});
