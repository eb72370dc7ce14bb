/**
 * `npm run bench`: the nightly market-data refresh at 5 Polygon requests per minute for 10, 100,
 * 1,000, 5,000 and 10,000 tickers (first night and steady-state night, beside the old design's figures),
 * and each function's bundle size and import time. Prints a markdown report and writes it to
 * BENCHMARKS.md. Progress goes to stderr.
 *
 *   npm run bench                                   # everything, writes BENCHMARKS.md
 *   npm run bench -- --sizes=10,100 --out=-         # quick look, nothing written
 *   npm run bench -- --runs=11 --skip-market        # bundles and import times only
 *   npm run bench -- --only-analysis --out=-         # the analysis night alone (seconds)
 *   npm run bench -- --skip-analysis                 # everything but the analysis night
 *
 * BENCH_NIGHT (ISO instant) moves the first night; default 2026-11-17T04:30:00Z (a Tuesday).
 */
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addStage } from '../lib/app-builder';
import { stages } from '../lib/config/stages';
import { measureColdStarts, type ColdStartResult } from './bench/cold-start';
import { DEFAULT_NIGHT } from './bench/constants';
import { analysisSection, runAnalysisNights } from './bench/analysis-report';
import { fmtDuration, renderReport, type Environment } from './bench/report';
import type { CaseResult } from './bench/types';

const repoRoot = path.resolve(__dirname, '..');

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(prefix));
  if (arg === undefined) return undefined;
  return arg.startsWith(prefix) ? arg.slice(prefix.length) : 'true';
}

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function runCase(tickers: number): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'bench', 'market-night.ts'), [String(tickers)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let result: CaseResult | undefined;
    child.on('message', (m) => (result = m as CaseResult));
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`case ${tickers} exited with ${code}`)),
    );
  });
}

/** Alarms in the prod stage's template, for the cost estimate (synthesized, bundling skipped). */
function prodAlarmCount(): number {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = addStage(app, stages.prod, '123456789012');
  return Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).length;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trimEnd();
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  const sizes = (option('sizes') ?? '10,100,1000,5000,10000')
    .split(',')
    .map((s) => Number(s.replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0);
  const runs = Number(option('runs') ?? 7);
  const outFile = option('out') ?? path.join(repoRoot, 'BENCHMARKS.md');

  const only = option('only-analysis') !== undefined;
  // Import times first, on a quiet machine.
  let cold: ColdStartResult | undefined;
  if (!only && !option('skip-cold-start')) {
    progress(`bundling lambdas/handlers/*.ts and timing imports (${runs} runs each)…`);
    cold = await measureColdStarts(repoRoot, runs);
  }

  const cases: CaseResult[] = [];
  if (!only && !option('skip-market')) {
    for (const n of sizes) {
      progress(`${n} tickers: first night and steady-state night…`);
      const t = performance.now();
      const result = await runCase(n);
      cases.push(result);
      const [first, steady] = result.nights;
      progress(
        `${n} tickers done in ${fmtDuration(performance.now() - t)} real: first night ${first.polygon.requests} calls, fresh after ${fmtDuration(first.freshAfterMs)} simulated; steady night ${steady.polygon.requests} calls`,
      );
    }
  }

  const cpus = os.cpus();
  const env: Environment = {
    date: new Date().toISOString().slice(0, 10),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.versions.node,
    platform: `${os.platform()} ${os.arch()}`,
    commit: git(['rev-parse', 'HEAD']),
    dirty: [
      ...new Set(
        git(['status', '--porcelain', '--', 'lambdas', 'lib', 'sim'])
          .split('\n')
          .filter(Boolean)
          .map((l) => `${l.slice(3).split('/')[0]}/`),
      ),
    ],
    nightStart: process.env.BENCH_NIGHT ?? DEFAULT_NIGHT,
    benchRealMs: performance.now() - started,
    loadAverage: [loadBefore, os.loadavg()[0]],
  };
  let analysis: string[] | undefined;
  if (!option('skip-analysis')) {
    progress('analysis night: 1,000, 10,000 and 100,000 portfolios on a simulated clock…');
    analysis = analysisSection(runAnalysisNights());
  }
  const report = renderReport(env, cases, cold, prodAlarmCount(), analysis);
  process.stdout.write(`${report}\n`);
  if (outFile !== '-') {
    writeFileSync(outFile, `${report}\n`);
    progress(`written to ${path.relative(process.cwd(), outFile) || outFile}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
