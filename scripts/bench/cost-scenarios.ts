/**
 * The cost section of BENCHMARKS.md: monthly usage of two fleet sizes built from the bench's
 * measured steady nights (scripts/bench/cost.ts prices it). What the bench measures is scaled
 * linearly from the nearest measured case; what it does not run (the analysis and evaluation
 * nights, SQS polling by the event-source mappings, logs) is modelled with the figures below,
 * each stated in the report.
 */
import { stages } from '../../lib/config/stages';
import { METRICS } from '../../lambdas/platform/metrics';
import {
  estimateMonthlyCost,
  llmMonthly,
  PRICES_AS_OF,
  totalOf,
  type LambdaUsage,
  type MonthlyUsage,
} from './cost';
import type { CaseResult, NightResult } from './types';

export interface Scenario {
  readonly tickers: number;
  readonly portfolios: number;
}

export const SCENARIOS: readonly Scenario[] = [
  { tickers: 500, portfolios: 1_000 },
  { tickers: 5_000, portfolios: 10_000 },
];

/** Modelled figures (not measured by the bench), each printed with the estimate. */
export const MODEL = {
  /** The schedules run Tuesday to Saturday: 5 nights a week. */
  nightsPerMonth: (5 * 365) / 7 / 12,
  positionsPerPortfolio: 20,
  /** One Grok answer, waited for by analyzePortfolio (issue 17 measures 8-20 s). */
  analysisSeconds: 15,
  /** Per analysis: portfolio, positions, 20 holdings' rows, claim reads (eventually consistent). */
  analysisReadUnits: 25,
  /** Per analysis: claim (2 writes), the analysis row (~4 KB), paid-guard mark. */
  analysisWriteUnits: 7,
  /** evaluateAnalyses: ~20 ms and the holdings' closes (20 reads) plus the row update per analysis. */
  evaluationMsPerAnalysis: 20,
  evaluationReadUnits: 20,
  evaluationWriteUnits: 5,
  /** Event-source mappings long-poll each queue all day: ~5 pollers × 3 ReceiveMessage a minute. */
  pollingRequestsPerQueuePerDay: 5 * 3 * 60 * 24,
  /** Log bytes per invocation (Powertools lines plus Lambda's START/END/REPORT), from npm start. */
  logBytesPerInvocation: 1_300,
  /** Bytes a stored analysis takes (prompt facts, scores, text) and a ticker-data row. */
  analysisRowBytes: 4_000,
  tickerRowBytes: 250,
  /** Tokens one analysis spends (20 holdings; the xAI simulator's counts for the seed portfolio, scaled). */
  promptTokens: 3_000,
  completionTokens: 1_200,
  llmPricePerMillion: { input: 1.25, output: 2.5 },
} as const;

const steadyOf = (c: CaseResult) => c.nights.find((n) => n.label === 'steady');

/** The measured case nearest in tickers (at least as large when one exists). */
function nearestCase(cases: readonly CaseResult[], tickers: number): CaseResult | undefined {
  const measured = cases.filter((c) => steadyOf(c));
  const larger = measured.filter((c) => c.tickers >= tickers).sort((a, b) => a.tickers - b.tickers);
  return larger[0] ?? [...measured].sort((a, b) => b.tickers - a.tickers)[0];
}

/** The measured market night of `c`, scaled to `s`: per ticker, and position writes per position. */
function marketNight(c: CaseResult, n: NightResult, s: Scenario) {
  const k = s.tickers / c.tickers;
  const positions = s.portfolios * MODEL.positionsPerPortfolio;
  const positionUpdates = n.dynamo.byOperation['UpdateItem positions'] ?? 0;
  const perPosition = n.positionsRepriced > 0 ? positionUpdates / n.positionsRepriced : 1;
  const fn = (name: string) => n.lambda[name] ?? { invocations: 0, totalMs: 0 };
  return {
    lambda: ['processTickers', 'processTicker'].map((name) => ({
      fn: name,
      invocations: fn(name).invocations,
      ms: fn(name).totalMs * k,
    })),
    readUnits: n.dynamo.readUnits * k,
    writeUnits: (n.dynamo.writeUnits - positionUpdates) * k + perPosition * positions,
    sqs: Object.values(n.sqs).reduce((a, b) => a + b, 0),
  };
}

export function usageOf(cases: readonly CaseResult[], s: Scenario): MonthlyUsage | undefined {
  const c = nearestCase(cases, s.tickers);
  const n = c && steadyOf(c);
  if (!c || !n) return undefined;
  const market = marketNight(c, n, s);
  const prod = stages.prod;
  const mem = (fn: keyof typeof prod.functions) => prod.functions[fn].memoryMb;
  const analyses = s.portfolios;
  const evaluationMs = analyses * MODEL.evaluationMsPerAnalysis;
  const lambda: LambdaUsage[] = [
    ...market.lambda.map((f) => ({
      fn: f.fn,
      memoryMb: mem(f.fn as 'processTicker'),
      invocationsPerNight: f.invocations,
      billedMsPerNight: f.ms,
      source: 'measured' as const,
    })),
    {
      fn: 'analyzePortfolios',
      memoryMb: mem('analyzePortfolios'),
      invocationsPerNight: 1,
      billedMsPerNight: 2_000 + analyses,
      source: 'modelled',
    },
    {
      fn: 'analyzePortfolio',
      memoryMb: mem('analyzePortfolio'),
      invocationsPerNight: analyses,
      billedMsPerNight: analyses * MODEL.analysisSeconds * 1000,
      source: 'modelled',
    },
    {
      fn: 'evaluateAnalyses',
      memoryMb: mem('evaluateAnalyses'),
      invocationsPerNight: 3,
      billedMsPerNight: evaluationMs + 3 * 1000,
      source: 'modelled',
    },
    {
      fn: 'checkFreshness',
      memoryMb: mem('checkFreshness'),
      invocationsPerNight: 1,
      billedMsPerNight: 500,
      source: 'modelled',
    },
  ];
  const invocations = lambda.reduce((sum, f) => sum + f.invocationsPerNight, 0);
  const monthsKept = 12;
  const rowsKept = s.tickers * (110 + 250); // the first night's backfill plus a year of sessions
  const analysesKept = analyses * MODEL.nightsPerMonth * monthsKept;
  return {
    label: `${s.tickers.toLocaleString('en-US')} tickers / ${s.portfolios.toLocaleString('en-US')} portfolios`,
    nightsPerMonth: MODEL.nightsPerMonth,
    lambda,
    dynamo: {
      readUnitsPerNight:
        market.readUnits + analyses * (MODEL.analysisReadUnits + MODEL.evaluationReadUnits),
      writeUnitsPerNight:
        market.writeUnits + analyses * (MODEL.analysisWriteUnits + MODEL.evaluationWriteUnits),
      storageGb: (rowsKept * MODEL.tickerRowBytes + analysesKept * MODEL.analysisRowBytes) / 1e9,
    },
    sqsRequestsPerNight:
      market.sqs +
      analyses * 3 /* send (batched ~1/10), receive, delete: rounded up */ +
      (2 * MODEL.pollingRequestsPerQueuePerDay * 7) / 5 /* polling runs every day */,
    cloudwatch: {
      metrics: Object.keys(METRICS).length,
      metricHoursPerNight: 4,
      alarms: 0, // filled in by the caller from the synthesized template
      dashboards: 1,
      logGbPerNight: (invocations * MODEL.logBytesPerInvocation) / 1e9,
      logRetentionDays: Number(stages.prod.logRetentionDays),
    },
    secrets: {
      count: 2,
      // Cached 300 s per warm function: every processTicker invocation, and about one read per
      // 20 analyses (15 s each) per concurrent analyzePortfolio.
      callsPerNight: market.lambda[1].invocations + Math.ceil(analyses / 20),
    },
  };
}

const usd = (x: number) => (x < 0.01 && x > 0 ? '< $0.01' : `$${x.toFixed(2)}`);

/** The markdown section, with the case each scenario was scaled from. */
export function costSection(cases: readonly CaseResult[], alarms: number): string[] {
  const out: string[] = ['## What it costs to run (estimate)', ''];
  out.push(
    `Monthly AWS cost of one stage, from the bench's measured steady nights (Lambda invocations and simulated durations, DynamoDB consumed capacity as dynalite reports it, SQS requests) scaled linearly to each fleet size, × list prices (us-east-1, ${PRICES_AS_OF}; \`scripts/bench/cost.ts\`). Modelled, not measured: the analysis night (${MODEL.analysisSeconds} s of Grok per portfolio, ${MODEL.analysisReadUnits} read and ${MODEL.analysisWriteUnits} write units per analysis), the evaluation runs, the event-source mappings' SQS polling (${MODEL.pollingRequestsPerQueuePerDay.toLocaleString('en-US')} requests a queue a day), logs (${MODEL.logBytesPerInvocation} bytes an invocation) and storage after 12 months. ${MODEL.positionsPerPortfolio} positions a portfolio; ${MODEL.nightsPerMonth.toFixed(1)} nights a month. The simulated durations include local processing against dynalite, so the Lambda lines are an upper bound. The first night's backfill is a one-off and not included.`,
    '',
  );
  for (const s of SCENARIOS) {
    const u = usageOf(cases, s);
    if (!u) continue;
    const from = nearestCase(cases, s.tickers)!;
    const lines = estimateMonthlyCost({ ...u, cloudwatch: { ...u.cloudwatch, alarms } });
    const llm = llmMonthly(
      {
        model: stages.prod.xaiModel,
        analysesPerNight: s.portfolios,
        promptTokens: MODEL.promptTokens,
        completionTokens: MODEL.completionTokens,
        price: MODEL.llmPricePerMillion,
      },
      MODEL.nightsPerMonth,
    );
    out.push(
      `### ${u.label} (scaled from the ${from.tickers.toLocaleString('en-US')}-ticker case)`,
      '',
    );
    out.push(
      '| Service | Usage a month | List price | After the always-free tier |',
      '|---|---|---:|---:|',
    );
    for (const l of lines)
      out.push(`| ${l.service} | ${l.detail} | ${usd(l.listUsd)} | ${usd(l.afterFreeTierUsd)} |`);
    out.push(
      `| **AWS total** | | **${usd(totalOf(lines, 'listUsd'))}** | **${usd(totalOf(lines, 'afterFreeTierUsd'))}** |`,
    );
    out.push(
      '',
      `LLM, separately: ${Math.round(llm.analyses).toLocaleString('en-US')} analyses, ${(llm.tokens / 1e6).toFixed(1)} M tokens a month with ${stages.prod.xaiModel} at $${MODEL.llmPricePerMillion.input} / $${MODEL.llmPricePerMillion.output} per 1M input / output tokens: **${usd(llm.usd)}** a month (${MODEL.promptTokens.toLocaleString('en-US')} prompt and ${MODEL.completionTokens.toLocaleString('en-US')} completion tokens an analysis, modelled).`,
      '',
    );
    const top = [...lines].sort((a, b) => b.listUsd - a.listUsd).slice(0, 3);
    out.push(
      `Where the money goes: ${top.map((l) => `${l.service} ${usd(l.listUsd)}`).join(', ')}.`,
      '',
    );
  }
  return out;
}
