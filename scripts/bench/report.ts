import { BEFORE, BEFORE_COMMIT, GOAL, type ColdStartResult } from './cold-start';
import { OLD_CALLS_PER_TICKER, OLD_CAP, OLD_STAGGER_S, oldDesignNight } from './old-design';
import { costSection } from './cost-scenarios';
import type { CaseResult, NightResult } from './types';
import { MAX_TICKERS_PER_JOB } from '../../lambdas/market-data/refresh-job/job';

export interface Environment {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly platform: string;
  readonly commit: string;
  readonly dirty: string[];
  readonly nightStart: string;
  readonly benchRealMs: number;
  /** 1-minute load average when the run started and when it ended. */
  readonly loadAverage: readonly [number, number];
}

export const fmtInt = (n: number): string => n.toLocaleString('en-US');

export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const fmtBytes = (b: number): string =>
  b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
const fmtMs = (ms: number): string => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : '—');

function callsCell(n: NightResult): string {
  const parts = [];
  if (n.polygon.grouped) parts.push(`${fmtInt(n.polygon.grouped)} grouped`);
  if (n.polygon.range) parts.push(`${fmtInt(n.polygon.range)} history`);
  const extra = [];
  if (n.polygon.rateLimited) extra.push(`${n.polygon.rateLimited} × 429`);
  if (n.polygon.otherErrors) extra.push(`${n.polygon.otherErrors} errors`);
  return `**${fmtInt(n.polygon.requests)}**${parts.length ? ` (${parts.join(' + ')})` : ''}${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

function nightName(n: NightResult): string {
  if (n.label === 'split') return 'night with a 10-for-1 split';
  return n.label === 'first' ? 'first night (all new)' : 'steady-state night';
}

const rowsWritten = (n: NightResult) => n.dynamo.rowsWritten;
const historyQueries = (n: NightResult) => n.dynamo.byOperation['Query tickerData'] ?? 0;
const budgetPerCall = (n: NightResult) =>
  n.polygon.requests === 0 ? 0 : n.dynamo.budgetWrites / n.polygon.requests;
/** The longest processTicker invocation as a share of its timeout, %. */
const timeoutPct = (n: NightResult) => (100 * n.longestInvocationMs) / 900_000;

/** The check lines for write amplification, history reads, the budget and invocation length. */
function writeChecks(cases: readonly CaseResult[]): string[] {
  const mark = (ok: boolean) => (ok ? 'PASS' : '**FAIL**');
  const all = cases.flatMap((c) => c.nights.map((n) => ({ c, n })));
  const list = (f: (x: { c: CaseResult; n: NightResult }) => string) =>
    all.map((x) => `${fmtInt(x.c.tickers)} ${x.n.label}: ${f(x)}`).join('; ');
  const out: string[] = [];
  out.push(
    `- ${mark(all.every(({ n }) => rowsWritten(n) <= 1.05 * n.dynamo.distinctRows))}: rows written ≤ 1.05 × distinct rows (${list(({ n }) => `${fmtInt(rowsWritten(n))} / ${fmtInt(n.dynamo.distinctRows)}`)}).`,
  );
  out.push(
    `- ${mark(all.every(({ c, n }) => historyQueries(n) <= c.tickers + 2 * n.invocations))}: history Queries ≤ tickers + 2 × invocations (${list(({ c, n }) => `${fmtInt(historyQueries(n))} ≤ ${fmtInt(c.tickers + 2 * n.invocations)}`)}).`,
  );
  const budgetWrites = all.reduce((s, { n }) => s + n.dynamo.budgetWrites, 0);
  const calls = all.reduce((s, { n }) => s + n.polygon.requests, 0);
  out.push(
    `- ${mark(budgetWrites <= 2 * calls)}: request-budget writes per Polygon call ≤ 2 on average: ${(budgetWrites / Math.max(1, calls)).toFixed(2)} (${fmtInt(budgetWrites)} writes for ${fmtInt(calls)} calls; worst night ${Math.max(...all.map(({ n }) => budgetPerCall(n))).toFixed(2)}).`,
  );
  out.push(
    `- ${mark(all.every(({ n }) => timeoutPct(n) <= 80))}: no processTicker invocation past 80 % of its 900-s timeout (longest: ${list(({ n }) => `${timeoutPct(n).toFixed(0)} %`)}).`,
  );
  const steady5k = cases.find((c) => c.tickers === 5_000)?.nights.find((n) => n.label === 'steady');
  if (steady5k)
    out.push(
      `- ${mark(steady5k.freshAfterMs !== null && steady5k.freshAfterMs <= 20_000)}: steady night at 5,000 tickers: every ticker fresh ${fmtDuration(steady5k.freshAfterMs)} after the trigger (target ≤ 20 s; rows written, the positions repriced after ${fmtDuration(steady5k.repricedAfterMs)}).`,
    );
  const first10k = cases.find((c) => c.tickers === 10_000)?.nights.find((n) => n.label === 'first');
  if (first10k)
    out.push(
      `- ${mark(first10k.freshAfterMs !== null && timeoutPct(first10k) <= 80)}: a 10,000-ticker first night completes (${first10k.freshAfterMs === null ? 'not all fresh' : `fresh after ${fmtDuration(first10k.freshAfterMs)}`}), longest invocation ${timeoutPct(first10k).toFixed(0)} % of the timeout.`,
    );
  return out;
}

/** The markdown report (also what `npm run bench` prints). */
export function renderReport(
  env: Environment,
  cases: readonly CaseResult[],
  cold: ColdStartResult | undefined,
  /** CloudWatch alarms in one stage's template (for the cost estimate). */
  alarms?: number,
  /** The analysis night's section (scripts/bench/analysis-report.ts), when it ran. */
  analysis?: readonly string[],
): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line('# Benchmarks');
  line();
  line(
    `Generated by \`npm run bench\` (\`scripts/bench.ts\`) on ${env.date}: ${env.cpus} cores (${env.cpuModel}), ${env.memoryGb} GB RAM, Node ${env.node} on ${env.platform}; commit \`${env.commit.slice(0, 12)}\`${env.dirty.length ? ` with uncommitted changes in ${env.dirty.join(', ')}` : ''}. The whole run took ${fmtDuration(env.benchRealMs)} of real time; 1-minute load average ${env.loadAverage[0].toFixed(1)} at the start and ${env.loadAverage[1].toFixed(1)} at the end (other work on the machine slows the real times and the local-processing part of the simulated ones).`,
  );
  line();

  if (cases.length > 0) {
    const first = cases[0].nights[0];
    const steady = cases[0].nights[1];
    line('## Nightly market-data refresh at 5 Polygon requests per minute');
    line();
    line('How it was measured:');
    line();
    line(
      '- **Real code paths**: the `processTickers` and `processTicker` handlers (`lambdas/handlers/`) with their real adapters, against dynalite (`sim/local-dynamo.ts`, in its own process), local SQS (`sim/local-sqs.ts`: local-aws-sqs in its own process, queue with its DLQ, maxReceiveCount 5) and the Polygon simulator (`sim/polygon-simulator.ts`: `requestsPerMinute: 5`, NYSE calendar, ' +
        `${fmtInt(cases[0].universe + 10)} symbols in a grouped day). Each case runs in a fresh process (cold handlers) with fresh tables.`,
    );
    line(
      `- **Virtual clock, not time compression**: \`Date.now\` is patched in the benchmark process. It runs at real speed while anything is processed and jumps over idle waits, so the service runs with its deployed constants (60-s budget window + 1.5-s margin, whole-second SQS delays, 900-s Lambda timeout; \`POLYGON_BUDGET_WINDOW_MS\` is not set). The service and the simulator read the same clock, so the simulator's rate limiter and the 60-s window check below are exact. SQS \`DelaySeconds\` is played on that clock: a middleware on the service's own \`SQSClient\` validates a delayed \`SendMessage\` (0–900 s, ≤ 256 KiB), holds it, and the poller sends it to the local SQS when it is due. The poller plays the Lambda event-source mapping (batch size 1, as deployed; failed records made visible again at once).`,
    );
    line(
      `- **Nights**: the first night starts when the rule fires (${first.startedAt}, session ${first.session}) with no stored history; the steady-state night is the next night (${steady.startedAt}, session ${steady.session}): the service's own clock names the next session, nothing is deleted or faked.`,
    );
    line(
      "- **Simulated time until every ticker is fresh** = from the rule firing to the end of the last `processTicker` invocation, checked afterwards: every ticker's newest row is the session's and has RSI and MA50. It includes local processing at real speed (dynalite on this machine) and the waits the virtual clock skipped.",
    );
    line(
      `- **DynamoDB requests**: every HTTP attempt of the service's DynamoDB clients (a deserialize-step middleware on the clients from \`lambdas/platform/aws-clients.ts\`, inside the SDK's retry loop), both handlers. The benchmark's own seeding and checks are not counted. They vary by a few requests between runs: the request budget probes its slots from a random start. Layout: each ticker is held by 2 positions, 20 positions per portfolio.`,
    );
    const heaviest = cases.reduce((a, b) => (b.totalRealMs > a.totalRealMs ? b : a));
    line(
      `- **Real time**: skipped waits cost nothing, so the real time is the service's own work, mostly its DynamoDB traffic against dynalite (the ${fmtInt(heaviest.tickers)}-ticker case: ${fmtInt(heaviest.nights.reduce((s, n) => s + n.dynamo.total, 0))} requests, ${fmtInt(heaviest.nights.reduce((s, n) => s + n.dynamo.itemsWritten, 0))} rows written, ${fmtDuration(heaviest.totalRealMs)}). \`npm run bench -- --sizes=10,100\` is a quick subset.`,
    );
    line(
      `- **Old design** (computed, not run): ${OLD_CALLS_PER_TICKER} calls per ticker (price, RSI, SMA), ticker n's message delayed n × ${OLD_STAGGER_S} s, delays over 900 s refused by SQS, so only the first ${OLD_CAP} tickers were ever refreshed (the rest silently dropped), every night alike.`,
    );
    line();
    line(
      '| Tickers | Design, night | Polygon calls | Max calls in any 60 s | Every ticker fresh after (simulated) | Tickers fresh | DynamoDB requests | Real time |',
    );
    line('|---:|---|---|---:|---:|---:|---:|---:|');
    for (const c of cases) {
      for (const n of c.nights) {
        line(
          `| ${fmtInt(c.tickers)} | new, ${nightName(n)} | ${callsCell(n)} | ${n.polygon.maxInWindow} | ${n.freshAfterMs === null ? '**not all fresh**' : fmtDuration(n.freshAfterMs)} | ${fmtInt(n.tickersFresh)} / ${fmtInt(c.tickers)} | ${fmtInt(n.dynamo.total)} | ${fmtDuration(n.realMs)} |`,
        );
      }
      const old = oldDesignNight(c.tickers);
      const oldFresh =
        old.dropped > 0
          ? `never for ${fmtInt(old.dropped)} (last of ${old.refreshed}: ${fmtDuration(old.lastRefreshS * 1000)})`
          : fmtDuration(old.lastRefreshS * 1000);
      line(
        `| ${fmtInt(c.tickers)} | old, every night | ${fmtInt(old.calls)} | ${old.maxInWindow} | ${oldFresh} | ${fmtInt(old.refreshed)} / ${fmtInt(c.tickers)} | n/a | — |`,
      );
    }
    line();
    line(
      'Old-design "fresh after" is the delivery time of the last refreshed ticker\'s message ((n − 1) × 75 s), without its processing. Its DynamoDB traffic is not modelled (the Python code is not in this repository).',
    );
    line();

    line('### Checks');
    line();
    const biggest = cases.reduce((a, b) => (b.tickers > a.tickers ? b : a));
    const steadyBig = biggest.nights.find((n) => n.label === 'steady');
    const worstWindow = Math.max(...cases.map((c) => c.maxInWindowOverall));
    const all429 = cases.flatMap((c) => c.nights).reduce((s, n) => s + n.polygon.rateLimited, 0);
    const dlq = cases.flatMap((c) => c.nights).reduce((s, n) => s + n.dlq, 0);
    const unfresh = cases.flatMap((c) =>
      c.nights.filter((n) => n.tickersFresh < c.tickers).map(() => c.tickers),
    );
    const mark = (ok: boolean) => (ok ? 'PASS' : '**FAIL**');
    // One refresh job per MAX_TICKERS_PER_JOB tickers, each with its own grouped day and splits
    // page; + 1: the benchmark ticker (SPY) is refreshed with the held ones.
    const jobs = Math.ceil((biggest.tickers + 1) / MAX_TICKERS_PER_JOB);
    const perJob = `target ≤ 2 per refresh job, ${jobs} job${jobs > 1 ? 's' : ''} of at most ${fmtInt(MAX_TICKERS_PER_JOB)} tickers`;
    line(
      `- ${mark((steadyBig?.polygon.requests ?? Infinity) <= 2 * jobs)}: steady-state night at ${fmtInt(biggest.tickers)} tickers costs ${steadyBig?.polygon.requests ?? '?'} Polygon call(s) (${perJob}).`,
    );
    const splitBig = biggest.nights.find((n) => n.label === 'split');
    line(
      `- ${mark((splitBig?.polygon.requests ?? Infinity) <= 2 * jobs)}: night with a split at ${fmtInt(biggest.tickers)} tickers costs ${splitBig?.polygon.requests ?? '?'} Polygon call(s) (${perJob}: the grouped day and one splits page each).`,
    );
    line(
      `- ${mark(worstWindow <= 5)}: most Polygon requests in any rolling 60-s window, over every night of every case: ${worstWindow} (limit 5); 429 answers from the simulator: ${all429}.`,
    );
    line(`- ${mark(unfresh.length === 0)}: every ticker fresh after every night.`);
    const unpriced = cases.flatMap((c) =>
      c.nights
        .filter((n) => n.positionsRepriced !== c.positions)
        .map((n) => `${c.tickers} ${n.label}`),
    );
    line(
      `- ${mark(unpriced.length === 0)}: every position repriced every night${unpriced.length > 0 ? ` (not: ${unpriced.join(', ')})` : ''}.`,
    );
    line(`- ${mark(dlq === 0)}: messages in the DLQ: ${dlq}.`);
    for (const l of writeChecks(cases)) line(l);
    line();

    line('### Where the time and the requests go');
    line();
    line(
      '| Tickers | Night | Rows written | Distinct rows | History Queries | Budget writes per Polygon call | Longest invocation, % of timeout | processTickers: invocations, total (simulated) | processTicker: invocations, total (simulated) |',
    );
    line('|---:|---|---:|---:|---:|---:|---:|---|---|');
    for (const c of cases) {
      for (const n of c.nights) {
        const use = (f: string) => {
          const u = n.lambda[f];
          return u ? `${u.invocations}, ${fmtDuration(u.totalMs)}` : '—';
        };
        line(
          `| ${fmtInt(c.tickers)} | ${n.label} | ${fmtInt(rowsWritten(n))} | ${fmtInt(n.dynamo.distinctRows)} | ${fmtInt(historyQueries(n))} | ${budgetPerCall(n).toFixed(2)} | ${timeoutPct(n).toFixed(0)} % | ${use('processTickers')} | ${use('processTicker')} |`,
        );
      }
    }
    line();
    line(
      '| Tickers | Night | Plan | Invocations | Deferrals | Longest invocation (simulated) | Waited (skipped by the clock) | SQS requests by the service |',
    );
    line('|---:|---|---|---:|---|---:|---:|---|');
    for (const c of cases) {
      for (const n of c.nights) {
        const deferrals =
          Object.entries(n.deferrals)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || '0';
        const sqs =
          Object.entries(n.sqs)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '—';
        line(
          `| ${fmtInt(c.tickers)} | ${n.label} | ${n.strategies.join('; ') || '—'} | ${n.invocations} | ${deferrals} | ${fmtDuration(n.longestInvocationMs)} | ${fmtDuration(n.waitedMs)} | ${sqs} |`,
        );
      }
    }
    line();
    line(
      '"Plan" is what the service logged when it planned the job (`Refresh planned`); a tie between the two strategies is named `range` even when its only call is the session\'s grouped day. "Waited" is the simulated time the virtual clock skipped (SQS delays the service chose); the rest of the simulated time is local processing at real speed.',
    );
    line();
    line(
      '| Tickers | Setup (real: dynalite tables from the synthesized template, local SQS, seeding) | Case total (real) | CPU: benchmark process (service, simulator, poller) | CPU: dynalite |',
    );
    line('|---:|---:|---:|---:|---:|');
    for (const c of cases) {
      line(
        `| ${fmtInt(c.tickers)} | ${fmtDuration(c.setupRealMs)} | ${fmtDuration(c.totalRealMs)} | ${c.cpuSeconds.service.toFixed(0)} s | ${c.cpuSeconds.dynalite.toFixed(0)} s |`,
      );
    }
    line();
    const ops = [
      ...new Set(cases.flatMap((c) => c.nights.flatMap((n) => Object.keys(n.dynamo.byOperation)))),
    ].sort();
    line(
      "DynamoDB requests by operation and table (`state` holds the request budget's slots and the no-data memo):",
    );
    line();
    line(`| Tickers | Night | ${ops.join(' | ')} | Rows written (BatchWrite items) |`);
    line(`|---:|---|${ops.map(() => '---:').join('|')}|---:|`);
    for (const c of cases) {
      for (const n of c.nights) {
        line(
          `| ${fmtInt(c.tickers)} | ${n.label} | ${ops.map((o) => fmtInt(n.dynamo.byOperation[o] ?? 0)).join(' | ')} | ${fmtInt(n.dynamo.itemsWritten)} |`,
        );
      }
    }
    line();
    const errors = cases.flatMap((c) =>
      c.nights.flatMap((n) =>
        n.errors.map((e) => `${fmtInt(c.tickers)} tickers, ${n.label} night: ${e}`),
      ),
    );
    if (errors.length > 0) {
      line('Errors logged by the service during the runs:');
      line();
      for (const e of errors) line(`- ${e}`);
      line();
    }
  }

  if (cases.length > 0 && alarms !== undefined) out.push(...costSection(cases, alarms));
  if (analysis) out.push(...analysis);
  if (cold) out.push(...coldStartSection(env, cold));
  return out.join('\n');
}

/** The bundle table, beside issue 14's "before" figures, with the goal's check line. */
function coldStartSection(env: Environment, cold: ColdStartResult): string[] {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line('## Bundle size and import time (most of a cold start)');
  line();
  line(
    `Each \`lambdas/handlers/*.ts\` bundled with esbuild ${cold.esbuildVersion} and \`esbuildOptions\` of \`lib/constructs/worker-function.ts\` (CJS, target ${cold.target}, main fields ${cold.mainFields.join(', ') || 'esbuild default'}, minified, external source map without sources, AWS SDK bundled). Import time: a fresh \`node -e "require(bundle)"\` process per run, ${cold.runs} runs per bundle after a warm-up, round-robin, median; the deployed environment's variable names set. "require" is the \`require()\` call timed inside the process; "process" is spawn to exit. Local Node ${env.node} (Lambda runs Node 24 on arm64), so compare the bundles with the empty module rather than reading the absolute numbers as Lambda's. "Before" is the table of commit ${BEFORE_COMMIT} (issue 14), where the empty module took ${BEFORE.emptyRequireMs.toFixed(2)} ms; a busier machine slows every row, the empty module shows by how much. "Before, this run" is that commit's bundle rebuilt (its own \`esbuildOptions\`, today's \`node_modules\`) and timed in the same rounds; where it exists the ratio is taken against it, so the load of the machine then and now cancels out; for an entry that no longer builds, "≈" marks the recorded figure scaled by how much slower the rebuilt ones ran in this run than recorded (an estimate: one factor for bundles of different make-up).${cold.beforeNotes.length ? ` Not rebuilt: ${cold.beforeNotes.join('; ')}.` : ''}`,
  );
  line();
  line(
    '| Function entry | Bundle | before | gzip | Source map | require | before | before, this run | ratio | process | require, `--enable-source-maps` (as deployed) | process, `--enable-source-maps` |',
  );
  line('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  line(
    `| (empty module) | 0 | 0 | — | — | ${cold.empty.requireMs.toFixed(2)} ms | ${BEFORE.emptyRequireMs.toFixed(2)} ms | ${cold.empty.requireMs.toFixed(2)} ms | ${(cold.empty.requireMs / BEFORE.emptyRequireMs).toFixed(2)} | ${fmtMs(cold.empty.processMs)} | — | — |`,
  );
  const failures: string[] = [];
  for (const b of cold.bundles) {
    const before = BEFORE.bundles[b.entry];
    if (b.error) {
      failures.push(`\`${b.entry}\` failed`);
      line(`| \`${b.entry}\` | — | — | — | — | failed: ${b.error} | | | | | | |`);
      continue;
    }
    const now = cold.beforeNow[b.entry];
    const base = beforeBase(cold, b.entry);
    const ratio = base ? b.requireMs / base.requireMs : NaN;
    if (b.bytes > GOAL.maxBytes) failures.push(`\`${b.entry}\` ${fmtInt(b.bytes)} bytes`);
    // A function added since (no "before" figure) is held to the size goal only.
    if (before && !(ratio <= GOAL.maxRequireRatio))
      failures.push(`\`${b.entry}\` ${ratio.toFixed(2)} ×`);
    line(
      `| \`${b.entry}\` | ${fmtBytes(b.bytes)} | ${before ? fmtBytes(before.bytes) : '—'} | ${fmtBytes(b.gzipBytes)} | ${fmtBytes(b.mapBytes)} | ${fmtMs(b.requireMs)} | ${before ? fmtMs(before.requireMs) : '—'} | ${now ? `${fmtMs(now.requireMs)} (${fmtBytes(now.bytes)})` : base ? `≈ ${fmtMs(base.requireMs)}` : '—'} | ${Number.isFinite(ratio) ? `${base?.estimated ? '≈ ' : ''}${ratio.toFixed(2)} ×` : '—'} | ${fmtMs(b.processMs)} (+${fmtMs(b.processMs - cold.empty.processMs)}) | ${fmtMs(b.requireMsSourceMaps)} | ${fmtMs(b.processMsSourceMaps)} (+${fmtMs(b.processMsSourceMaps - cold.empty.processMs)}) |`,
    );
  }
  line();
  line(
    `Check (every bundle ≤ ${fmtInt(GOAL.maxBytes)} bytes and require ≤ ${GOAL.maxRequireRatio} × before): **${failures.length === 0 ? 'PASS' : `FAIL`}**${failures.length ? ` (${failures.join(', ')})` : ''}.`,
  );
  line();
  out.push(...floorSection(cold), ...httpProbeSection(cold));
  return out;
}

/**
 * The "before" a bundle's ratio is taken against: its before bundle timed in this run; else, for
 * one that no longer builds, the recorded figure scaled by how much slower the rebuilt ones ran
 * this time than recorded (≈, marked as an estimate); else the recorded figure.
 */
function beforeBase(
  cold: ColdStartResult,
  entry: string,
): { requireMs: number; estimated: boolean } | undefined {
  const now = cold.beforeNow[entry];
  if (now) return { requireMs: now.requireMs, estimated: false };
  const recorded = BEFORE.bundles[entry];
  if (!recorded) return undefined;
  const factors = Object.entries(cold.beforeNow)
    .filter(([e]) => BEFORE.bundles[e])
    .map(([e, b]) => b.requireMs / BEFORE.bundles[e].requireMs);
  if (factors.length === 0) return { requireMs: recorded.requireMs, estimated: false };
  const factor = factors.reduce((a, b) => a + b, 0) / factors.length;
  return { requireMs: recorded.requireMs * factor, estimated: true };
}

/** The floors: what the libraries a function cannot leave out take to import, against before. */
function floorSection(cold: ColdStartResult): string[] {
  if (cold.floors.length === 0) return [];
  const out = [
    `Floors: a module importing only the libraries named, bundled with the same options; no change to our own code brings a function's import below its floor. "÷ before" is the floor over the function's before figure (this run's where it exists), which the goal (≤ ${GOAL.maxRequireRatio}) cannot beat.`,
    '',
    '| Libraries | Bundle | require | floor of | ÷ before |',
    '|---|---:|---:|---|---|',
  ];
  for (const f of cold.floors) {
    const ratios = f.entries.map((e) => {
      const base = beforeBase(cold, e);
      const ratio = base
        ? `${base.estimated ? '≈ ' : ''}${(f.requireMs / base.requireMs).toFixed(2)} ×`
        : '—';
      return `\`${e}\` ${ratio}`;
    });
    out.push(
      f.error
        ? `| ${f.name} | — | failed: ${f.error} | | |`
        : `| ${f.name} | ${fmtBytes(f.bytes)} | ${fmtMs(f.requireMs)} | ${f.entries.map((e) => `\`${e}\``).join(', ') || 'all'} | ${ratios.join(', ') || '—'} |`,
    );
  }
  out.push('');
  return out;
}

/** The HTTP clients compared: the same GET through each, bundled and timed like a function. */
function httpProbeSection(cold: ColdStartResult): string[] {
  if (cold.httpProbes.length === 0) return [];
  const out = [
    'HTTP client of the upstream calls: a module that makes one GET and reads the body, bundled with the same options. "require" is its import alone; "require + first GET" adds the first request to a loopback server (started before the timing), where a lazily loaded client pays its own load.',
    '',
    '| Client | Bundle | require | require + first GET |',
    '|---|---:|---:|---:|',
  ];
  for (const p of cold.httpProbes) {
    out.push(
      p.error
        ? `| ${p.name} | — | failed: ${p.error} | |`
        : `| ${p.name} | ${fmtBytes(p.bytes)} | ${fmtMs(p.requireMs)} | ${fmtMs(p.firstRequestMs)} |`,
    );
  }
  out.push('');
  return out;
}
