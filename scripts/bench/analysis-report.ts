import { stages } from '../../lib/config/stages';
import { MAX_RATE_LIMIT_DEFERRALS } from '../../lambdas/analysis/rate-limit-deferral';
import {
  COST_PER_ANALYSIS_USD,
  MAX_COST_PER_ANALYSIS_USD,
  MODEL_ANALYSIS,
  runAnalysisNight,
  type AnalysisNightResult,
} from './analysis-night';

const fmtInt = (n: number) => n.toLocaleString('en-US');
const clockAt = (ms: number) => {
  const total = Math.round(ms / 60_000) + 6 * 60;
  return `${String(Math.floor(total / 60) % 24).padStart(2, '0')}:${String(total % 60).padStart(2, '0')} UTC`;
};

/**
 * The nights of the section: 1,000 / 10,000 / 100,000, today's fixed 5, the largest at a
 * forced 1,000 slots, and the cap runs (10,000
 * and 100,000 portfolios with a cap at half their uncapped night's cost, in whole cents).
 */
export function runAnalysisNights(sizes: readonly number[] = [1_000, 10_000, 100_000]) {
  const nights = sizes.map((portfolios) => runAnalysisNight({ portfolios }));
  const fixed = runAnalysisNight({ portfolios: 10_000, fixedConcurrency: 5 });
  // Slots far over the ceiling, so that xAI's limits refuse requests: the 429 path at work.
  const forced = runAnalysisNight({ portfolios: Math.max(...sizes), fixedConcurrency: 1_000 });
  const capped = nights
    .filter((n) => n.portfolios >= 10_000)
    .map((n) =>
      runAnalysisNight({ portfolios: n.portfolios, capUsd: Math.round(n.costUsd * 50) / 100 }),
    );
  return { nights, fixed, forced, capped };
}

const usd = (n: number, digits = 2) => `$${n.toFixed(digits)}`;

/** The cap runs' table: what was sent and skipped, the overshoot and its stated bound. */
function capTable(capped: readonly AnalysisNightResult[]): string[] {
  const rows = capped.map((n) => {
    const c = n.cap!;
    return `| ${fmtInt(n.portfolios)} | ${usd(c.capUsd)} (half of ${usd(n.portfolios * COST_PER_ANALYSIS_USD)}) | ${fmtInt(c.sent)} | ${fmtInt(c.skippedBudget)} | ${usd(c.spentUsd, 4)} | ${usd(c.overshootUsd, 4)} | ${n.concurrency} × ${usd(MAX_COST_PER_ANALYSIS_USD, 5)} = ${usd(c.boundUsd, 4)} | ${c.withinBound ? 'yes' : '**no**'} | ${clockAt(n.completionMs)} |`;
  });
  return [
    `**With a spending cap** (\`xaiMaxUsdPerNight\`, lambdas/analysis/spend-cap.ts, modelled as the code does it: a call is admitted while the night's recorded spend, the real \`nightOf\`'s UTC day, is below the cap; each answer's cost is added when it arrives; a record found over the cap is acknowledged unsent and counted as \`AnalysesSkippedBudget\`). The stated bound: the spend passes the cap by less than the concurrency used × the most one analysis costs (every modelled analysis costs the same; in production the most is about $0.05, README "Operate").`,
    '',
    '| portfolios | cap | analyses sent | skipped for budget | final spend | overshoot above the cap | stated bound (concurrency × max cost) | within the bound | last analysis stored |',
    '|---:|---|---:|---:|---:|---:|---|---|---|',
    ...rows,
    '',
  ];
}

/** The markdown section "Analysis night" of BENCHMARKS.md. */
export function analysisSection(r: ReturnType<typeof runAnalysisNights>): string[] {
  const p = stages.prod.analysisPacing;
  const row = (n: AnalysisNightResult, label = fmtInt(n.portfolios)) =>
    `| ${label} | ${fmtInt(n.concurrency)} (${n.boundBy}) | ${clockAt(n.completionMs)} | ${fmtInt(n.http429)} | ${fmtInt(n.deferrals)} | $${n.costUsd.toFixed(2)} | ${fmtInt(n.maxRequestsInMinute)} | ${n.deadlineHeld ? 'yes' : '**no**'} |`;
  return [
    '## Analysis night (issue 17): derived concurrency within xAI limits',
    '',
    `Simulated clock from 06:00 UTC; xAI answers after 8-20 s (seeded) and refuses over ${fmtInt(p.requestsPerMinute)} requests / ${fmtInt(p.tokensPerMinute)} tokens a minute (the simulator's XaiRateWindow); concurrency from the real \`deriveConcurrency\` with the prod stage's \`analysisPacing\` (ceiling ${p.maxConcurrency}, deadline ${p.deadlineUtc} UTC). Each analysis counts ${fmtInt(MODEL_ANALYSIS.countedTokens)} tokens against the TPM and costs $${COST_PER_ANALYSIS_USD.toFixed(5)} (${fmtInt(MODEL_ANALYSIS.promptTokens)} prompt + ${fmtInt(MODEL_ANALYSIS.outputTokens)} output tokens of grok-4.3). **Modelled at every size, not run:** the Lambda poller, SQS, DynamoDB and the answer's content (scripts/bench/analysis-night.ts says why); real: the derivation, the rate window, the 429 handling rule (wait inside the invocation, else re-queue with \`deferralDelaySeconds\`).`,
    '',
    '| portfolios | concurrency (bound by) | last analysis stored | 429s | re-queued | cost | most requests in a minute | deadline held |',
    '|---:|---|---|---:|---:|---:|---:|---|',
    ...r.nights.map((n) => row(n)),
    row(r.fixed, "10,000 at today's fixed 5"),
    row(r.forced, `${fmtInt(r.forced.portfolios)} at a forced 1,000 slots`),
    ...r.capped.map((n) => row(n, `${fmtInt(n.portfolios)} with a cap at ${usd(n.cap!.capUsd)}`)),
    '',
    `At a forced 1,000 slots (10 × the ceiling) xAI's limits refuse requests: an invocation waits out each Retry-After (at most the 60-s window) and re-queues its record only after its third refused attempt, so the 429s are at least 3 × the re-queues; the most re-queues of one record were ${r.forced.maxDeferralsOfOne} (past ${MAX_RATE_LIMIT_DEFERRALS} a record fails: ${fmtInt(r.forced.rateLimitFailures)} did). Each attempt is its own event on the clock, in time order.`,
    '',
    ...capTable(r.capped),
  ];
}
