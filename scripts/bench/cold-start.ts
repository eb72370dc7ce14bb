/**
 * Bundle size and import time of every function: each entry of `lib/functions.ts` is bundled with
 * the options of `lib/constructs/worker-function.ts` (esbuild, CJS, node20, minified, external
 * source map without sources, nothing external), then required in fresh Node processes. Loading
 * and initialising the bundle is most of a Lambda cold start that we control.
 */
import { spawnSync } from 'node:child_process';
import { FUNCTION_NAMES, FUNCTIONS } from '../../lib/functions';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleResult {
  /** Entry file name, e.g. `process-ticker.ts`. */
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  /** Median wall time of `node -e "require(bundle)"`, spawn to exit, ms. */
  readonly processMs: number;
  /** Median time of the `require` call alone, measured inside the process, ms. */
  readonly requireMs: number;
  /** The same two medians with `--enable-source-maps` (set by the WorkerFunction construct). */
  readonly processMsSourceMaps: number;
  readonly requireMsSourceMaps: number;
  readonly error?: string;
}

export interface ColdStartResult {
  readonly runs: number;
  readonly esbuildVersion: string;
  readonly empty: { processMs: number; requireMs: number };
  readonly bundles: BundleResult[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The deployed environment's variable names (values are placeholders; nothing is called). */
const LAMBDA_LIKE_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  STAGE: 'dev',
  POWERTOOLS_SERVICE_NAME: 'backend-processing',
  POWERTOOLS_METRICS_NAMESPACE: 'ZsmSevenBackendProcessing',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  TICKER_DATA_TABLE: 'ticker-data-dev',
  ANALYSES_TABLE: 'portfolio-analyses-dev',
  STATE_TABLE: 'backend-processing-state-dev',
  PORTFOLIOS_TABLE: 'user-portfolios-dev',
  POSITIONS_TABLE: 'portfolio-positions-dev',
  SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ticker-processing-queue-dev',
  ANALYSIS_QUEUE_URL:
    'https://sqs.us-east-1.amazonaws.com/000000000000/portfolio-analysis-queue-dev',
  POLYGON_BASE_URL: 'https://api.polygon.io',
  POLYGON_REQUESTS_PER_MINUTE: '5',
  POLYGON_API_KEY_SECRET: 'bench/polygon',
  XAI_API_URL: 'https://api.x.ai/v1/chat/completions',
  XAI_MODEL: 'grok-4',
  XAI_API_KEY_SECRET: 'bench/xai',
};

interface Sample {
  readonly processMs: number;
  readonly requireMs: number;
}

function timeRequire(file: string, sourceMaps: boolean): Sample {
  const code = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const args = [...(sourceMaps ? ['--enable-source-maps'] : []), '-e', code];
  const start = performance.now();
  const out = spawnSync(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_LIKE_ENV },
    encoding: 'utf8',
  });
  const processMs = performance.now() - start;
  if (out.status !== 0) throw new Error(out.stderr.trim().split('\n').slice(-3).join(' '));
  return { processMs, requireMs: Number(out.stdout) };
}

/** Bundles every handler and times its import `runs` times (round-robin, after one warm-up). */
export async function measureColdStarts(repoRoot: string, runs: number): Promise<ColdStartResult> {
  const handlersDir = path.join(repoRoot, 'lambdas', 'handlers');
  // The deployed functions' entries, from the one function registry.
  const entries = FUNCTION_NAMES.map((fn) => FUNCTIONS[fn].entryFile).sort();
  const outRoot = mkdtempSync(path.join(tmpdir(), 'bench-bundles-'));
  const emptyFile = path.join(outRoot, 'empty.js');
  writeFileSync(emptyFile, '');

  const bundles: { entry: string; file: string; error?: string }[] = [];
  for (const entry of entries) {
    const outDir = path.join(outRoot, entry.replace(/\.ts$/, ''));
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, 'index.js');
    try {
      await build({
        entryPoints: [path.join(handlersDir, entry)],
        absWorkingDir: repoRoot,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        outfile: file,
        logLevel: 'error',
      });
      bundles.push({ entry, file });
    } catch (err) {
      bundles.push({ entry, file, error: (err as Error).message.split('\n')[0] });
    }
  }

  const targets = [
    { entry: '(empty module)', file: emptyFile },
    ...bundles.filter((b) => !b.error),
  ];
  const samples = new Map<string, { plain: Sample[]; maps: Sample[] }>(
    targets.map((t) => [t.file, { plain: [], maps: [] }]),
  );
  const errors = new Map<string, string>();
  for (let run = -1; run < runs; run++) {
    for (const t of targets) {
      if (errors.has(t.file)) continue;
      try {
        const plain = timeRequire(t.file, false);
        const maps = timeRequire(t.file, true);
        if (run < 0) continue; // warm-up: file cache
        samples.get(t.file)!.plain.push(plain);
        samples.get(t.file)!.maps.push(maps);
      } catch (err) {
        errors.set(t.file, (err as Error).message);
      }
    }
  }
  const summary = (file: string) => {
    const { plain, maps } = samples.get(file)!;
    return {
      processMs: median(plain.map((x) => x.processMs)),
      requireMs: median(plain.map((x) => x.requireMs)),
      processMsSourceMaps: median(maps.map((x) => x.processMs)),
      requireMsSourceMaps: median(maps.map((x) => x.requireMs)),
    };
  };
  const empty = summary(emptyFile);
  const esbuildVersion = (
    JSON.parse(
      readFileSync(path.join(repoRoot, 'node_modules', 'esbuild', 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;
  const result: ColdStartResult = {
    runs,
    esbuildVersion,
    empty: { processMs: empty.processMs, requireMs: empty.requireMs },
    bundles: bundles.map((b) => {
      const error = b.error ?? errors.get(b.file);
      const sizes = b.error
        ? { bytes: 0, gzipBytes: 0, mapBytes: 0 }
        : {
            bytes: statSync(b.file).size,
            gzipBytes: gzipSync(readFileSync(b.file), { level: 9 }).length,
            mapBytes: statSync(`${b.file}.map`).size,
          };
      const times = error
        ? { processMs: NaN, requireMs: NaN, processMsSourceMaps: NaN, requireMsSourceMaps: NaN }
        : summary(b.file);
      return { entry: b.entry, ...sizes, ...times, ...(error ? { error } : {}) };
    }),
  };
  rmSync(outRoot, { recursive: true, force: true });
  return result;
}
