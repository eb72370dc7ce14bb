import { stages } from '../../lib/config/stages';
import {
  COST_PER_ANALYSIS_USD,
  MODEL_ANALYSIS,
  runAnalysisNight,
  type AnalysisNightResult,
} from './analysis-night';

const fmtInt = (n: number) => n.toLocaleString('en-US');
const clockAt = (ms: number) => {
  const total = Math.round(ms / 60_000) + 6 * 60;
  return `${String(Math.floor(total / 60) % 24).padStart(2, '0')}:${String(total % 60).padStart(2, '0')} UTC`;
};

/** The nights of the section: 1,000 / 10,000 / 100,000, today's fixed 5, and the cap run. */
export function runAnalysisNights(sizes: readonly number[] = [1_000, 10_000, 100_000]) {
  const nights = sizes.map((portfolios) => runAnalysisNight({ portfolios }));
  const fixed = runAnalysisNight({ portfolios: 10_000, fixedConcurrency: 5 });
  const half = (nights.find((n) => n.portfolios === 10_000) ?? nights[0]).costUsd / 2;
  return { nights, fixed, capUsd: half };
}

/** The markdown section "Analysis night" of BENCHMARKS.md. */
export function analysisSection(r: ReturnType<typeof runAnalysisNights>): string[] {
  const p = stages.prod.analysisPacing;
  const row = (n: AnalysisNightResult, label = fmtInt(n.portfolios)) =>
    `| ${label} | ${n.concurrency} (${n.boundBy}) | ${clockAt(n.completionMs)} | ${n.http429} | ${n.deferrals} | $${n.costUsd.toFixed(2)} | ${n.maxRequestsInMinute} | ${n.deadlineHeld ? 'yes' : '**no**'} |`;
  return [
    '## Analysis night (issue 17): derived concurrency within xAI limits',
    '',
    `Simulated clock from 06:00 UTC; xAI answers after 8-20 s (seeded) and refuses over ${fmtInt(p.requestsPerMinute)} requests / ${fmtInt(p.tokensPerMinute)} tokens a minute (the simulator's XaiRateWindow); concurrency from the real \`deriveConcurrency\` with the prod stage's \`analysisPacing\` (ceiling ${p.maxConcurrency}, deadline ${p.deadlineUtc} UTC). Each analysis counts ${fmtInt(MODEL_ANALYSIS.countedTokens)} tokens against the TPM and costs $${COST_PER_ANALYSIS_USD.toFixed(5)} (${fmtInt(MODEL_ANALYSIS.promptTokens)} prompt + ${fmtInt(MODEL_ANALYSIS.outputTokens)} output tokens of grok-4.3). **Modelled at every size, not run:** the Lambda poller, SQS, DynamoDB and the answer's content (scripts/bench/analysis-night.ts says why); real: the derivation, the rate window, the 429 handling rule (wait inside the invocation, else re-queue with \`deferralDelaySeconds\`).`,
    '',
    '| portfolios | concurrency (bound by) | last analysis stored | 429s | re-queued | cost | most requests in a minute | deadline held |',
    '|---:|---|---|---:|---:|---:|---:|---|',
    ...r.nights.map((n) => row(n)),
    row(r.fixed, "10,000 at today's fixed 5"),
    `| 10,000 with a cap at $${r.capUsd.toFixed(2)} (half the night) | needs the cap branch | | | | | | |`,
    '',
  ];
}
