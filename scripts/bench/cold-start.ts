/**
 * Bundle size and import time of every function: each entry of `lib/functions.ts` is bundled with
 * `esbuildOptions` of `lib/constructs/worker-function.ts` (the deployed bundle's options, whatever
 * they are: target, format, minification, source map, module resolution, nothing external), then
 * required in fresh Node processes beside an empty module. Loading and initialising the bundle is
 * most of a Lambda cold start that we control. Two probes compare HTTP clients the same way: a
 * tiny module making one GET with undici's cheapest import (`lambdas/platform/undici-request.ts`)
 * and one with Node's global `fetch`. Floor probes import only the libraries a function cannot do
 * without (the AWS SDK clients, Powertools), bundled the same way: no change to our code can bring
 * a bundle's import below its floor. The "before" bundles are rebuilt from {@link BEFORE_COMMIT}
 * with that commit's own `esbuildOptions` and today's `node_modules`, and timed in the same
 * rounds, so the ratio does not depend on how busy the machine was then and now.
 */
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { esbuildOptions } from '../../lib/constructs/worker-function';
import { FUNCTION_NAMES, FUNCTIONS } from '../../lib/functions';

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

/** One HTTP-client probe: a module exporting `get(url)` that makes one GET and reads the body. */
export interface HttpProbeResult {
  readonly name: string;
  readonly bytes: number;
  /** Median `require` time, ms (nothing else loaded before). */
  readonly requireMs: number;
  /** Median `require` plus the first GET to a loopback server started before the timing, ms. */
  readonly firstRequestMs: number;
  readonly error?: string;
}

export interface ColdStartResult {
  readonly runs: number;
  readonly esbuildVersion: string;
  /** esbuild's target and main fields, as `esbuildOptions` set them. */
  readonly target: string;
  readonly mainFields: readonly string[];
  readonly empty: { processMs: number; requireMs: number };
  readonly bundles: BundleResult[];
  readonly httpProbes: HttpProbeResult[];
  readonly floors: FloorResult[];
  /** The before commit's bundles timed in this run (entries that still build), by entry. */
  readonly beforeNow: Readonly<Record<string, { bytes: number; requireMs: number }>>;
  /** Why some before bundles could not be rebuilt (empty when all were). */
  readonly beforeNotes: string[];
}

/** A floor probe: the libraries alone, bundled like a function, and its import time. */
export interface FloorResult {
  readonly name: string;
  /** The functions whose floor it is (entry files). */
  readonly entries: readonly string[];
  readonly bytes: number;
  readonly requireMs: number;
  readonly error?: string;
}

/** The commit of issue 14's "before" figures, rebuilt by the bench when it still builds. */
export const BEFORE_COMMIT = '01148d55b4c5';

/**
 * Issue 14's "before": the bundle table of BENCHMARKS.md at commit 01148d55b4c5 (2026-11-23,
 * esbuild 0.28.2, target node20, Node 20.20.2, 7 runs), the figures the issue's goal (≤ 1 MB,
 * require ≤ 0.4 ×) is measured against.
 */
export const BEFORE: {
  readonly emptyRequireMs: number;
  readonly bundles: Readonly<Record<string, { bytes: number; requireMs: number }>>;
} = {
  emptyRequireMs: 6.04,
  bundles: {
    'analyze-portfolio.ts': { bytes: 1.79 * 1024 * 1024, requireMs: 261 },
    'analyze-portfolios.ts': { bytes: 1.56 * 1024 * 1024, requireMs: 204 },
    'check-freshness.ts': { bytes: 571.2 * 1024, requireMs: 115 },
    'process-ticker.ts': { bytes: 1.82 * 1024 * 1024, requireMs: 272 },
    'process-tickers.ts': { bytes: 1.81 * 1024 * 1024, requireMs: 276 },
  },
};

/** The goal: every bundle at most this many bytes, and require time at most this × before. */
export const GOAL = { maxBytes: 1_000_000, maxRequireRatio: 0.4 } as const;

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

/** Runs `code` in a fresh Node process; its stdout is a number of ms. */
function timeChild(code: string, sourceMaps: boolean): Sample {
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

const requireCode = (file: string) =>
  `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;

/** A loopback server first (not timed), then `require(file).get(url)`, timed to the body's end. */
const firstRequestCode = (file: string) =>
  `const s=require('node:http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',async()=>{` +
  `const u='http://127.0.0.1:'+s.address().port+'/';const t=process.hrtime.bigint();` +
  `const b=await require(${JSON.stringify(file)}).get(u);if(b!=='ok')throw new Error(b);` +
  `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));s.close();process.exit(0)})`;

/** The HTTP-client probes: the same GET through each client, bundled like a function. */
const HTTP_PROBES: readonly { name: string; contents: string }[] = [
  {
    name: 'undici `request` (lib/ files, as `lambdas/platform/http.ts`)',
    contents: `import { request } from './lambdas/platform/undici-request';
export const get = async (url: string) =>
  (await request(url, { method: 'GET', headers: {} })).body.text();`,
  },
  {
    name: "undici `request` (package entry, `from 'undici'`)",
    contents: `import { request } from 'undici';
export const get = async (url: string) => (await request(url, { method: 'GET' })).body.text();`,
  },
  {
    name: 'global `fetch` (Node’s built-in undici)',
    contents: `export const get = async (url: string) => (await fetch(url)).text();`,
  },
];

const DDB = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`;
const SQS = `import { SQSClient } from '@aws-sdk/client-sqs';`;
const SECRETS = `import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';`;
const POWERTOOLS = `import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';`;

/**
 * What each function imports at cold start and cannot leave out: its AWS SDK clients (bundled,
 * as deployed) and Powertools (logger, metrics). Imports only: the functions create their
 * clients at the first invocation, and so do these (not at all).
 */
const FLOOR_PROBES: readonly { name: string; entries: string[]; contents: string }[] = [
  {
    name: 'AWS SDK: DynamoDB document client',
    entries: ['check-freshness.ts', 'evaluate-analyses.ts'],
    contents: `${DDB}\nexport const c = [DynamoDBClient, DynamoDBDocumentClient];`,
  },
  {
    name: 'AWS SDK: DynamoDB document client + SQS',
    entries: ['analyze-portfolios.ts', 'process-tickers.ts'],
    contents: `${DDB}\n${SQS}\nexport const c = [DynamoDBClient, DynamoDBDocumentClient, SQSClient];`,
  },
  {
    name: 'AWS SDK: DynamoDB document client + Secrets Manager',
    entries: ['analyze-portfolio.ts'],
    contents: `${DDB}\n${SECRETS}\nexport const c = [DynamoDBClient, DynamoDBDocumentClient, SecretsManagerClient];`,
  },
  {
    name: 'AWS SDK: DynamoDB document client + SQS + Secrets Manager',
    entries: ['process-ticker.ts'],
    contents: `${DDB}\n${SQS}\n${SECRETS}\nexport const c = [DynamoDBClient, DynamoDBDocumentClient, SQSClient, SecretsManagerClient];`,
  },
  {
    name: 'Powertools logger + metrics (every function)',
    entries: [],
    contents: `${POWERTOOLS}\nexport const c = [Logger, Metrics];`,
  },
];

/** Builds one bundle; returns an error message instead of throwing. */
async function bundle(options: BuildOptions): Promise<string | undefined> {
  try {
    await build({ ...options, logLevel: 'silent' });
    return undefined;
  } catch (err) {
    // esbuild's first error text (e.g. `Could not resolve "@aws-sdk/client-ssm"`), else the message.
    const first = (err as { errors?: { text: string }[] }).errors?.[0]?.text;
    return first ?? (err as Error).message.split('\n')[0];
  }
}

interface Target {
  readonly file: string;
  error?: string;
  readonly plain: Sample[];
  readonly maps: Sample[];
  readonly first: number[];
}

const target = (file: string, error?: string): Target => ({
  file,
  error,
  plain: [],
  maps: [],
  first: [],
});

/**
 * Times every target `runs` times, round-robin, after one warm-up round (file cache): `probes`
 * also with a first GET, `plainOnly` (floors, before bundles) without the source-map variant.
 */
function timeAll(
  targets: readonly Target[],
  probes: ReadonlySet<Target>,
  plainOnly: ReadonlySet<Target>,
  runs: number,
): void {
  for (let run = -1; run < runs; run++) {
    for (const t of targets) {
      if (t.error) continue;
      try {
        const plain = timeChild(requireCode(t.file), false);
        const withMaps = !probes.has(t) && !plainOnly.has(t);
        const maps = withMaps ? timeChild(requireCode(t.file), true) : undefined;
        const first = probes.has(t) ? timeChild(firstRequestCode(t.file), false) : undefined;
        if (run < 0) continue;
        t.plain.push(plain);
        if (maps) t.maps.push(maps);
        if (first) t.first.push(first.requireMs);
      } catch (err) {
        t.error = (err as Error).message;
      }
    }
  }
}

function bundleResult(entry: string, t: Target): BundleResult {
  const sizes = existsFile(t.file)
    ? {
        bytes: statSync(t.file).size,
        gzipBytes: gzipSync(readFileSync(t.file), { level: 9 }).length,
        mapBytes: existsFile(`${t.file}.map`) ? statSync(`${t.file}.map`).size : 0,
      }
    : { bytes: 0, gzipBytes: 0, mapBytes: 0 };
  const ms = (xs: Sample[], k: keyof Sample) => (t.error ? NaN : median(xs.map((x) => x[k])));
  return {
    entry,
    ...sizes,
    processMs: ms(t.plain, 'processMs'),
    requireMs: ms(t.plain, 'requireMs'),
    processMsSourceMaps: ms(t.maps, 'processMs'),
    requireMsSourceMaps: ms(t.maps, 'requireMs'),
    ...(t.error ? { error: t.error } : {}),
  };
}

const existsFile = (file: string): boolean => {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
};

type Options = ReturnType<typeof esbuildOptions>;

/** Bundles each `{ name, contents }` module (a stdin entry resolved from `resolveDir`). */
async function bundleModules(
  modules: readonly { name: string; contents: string }[],
  outFile: (name: string) => string,
  resolveDir: string,
): Promise<Map<string, Target>> {
  const targets = new Map<string, Target>();
  for (const [i, m] of modules.entries()) {
    const file = outFile(`probe-${i}`);
    const stdin = { contents: m.contents, resolveDir, loader: 'ts' as const };
    const options = { ...esbuildOptions('probe.ts', file), entryPoints: undefined, stdin };
    targets.set(m.name, target(file, await bundle({ ...options, absWorkingDir: resolveDir })));
  }
  return targets;
}

/** Bundles `entries` with `optionsOf` (a commit's `esbuildOptions`), from `root`. */
async function bundleEntries(
  entries: readonly string[],
  optionsOf: (entry: string, outfile: string) => Options,
  outFile: (name: string) => string,
  root: string,
): Promise<Map<string, Target>> {
  const targets = new Map<string, Target>();
  for (const entry of entries) {
    const file = outFile(entry.replace(/\.ts$/, ''));
    targets.set(
      entry,
      target(file, await bundle({ ...optionsOf(entry, file), absWorkingDir: root })),
    );
  }
  return targets;
}

/**
 * The before commit's handlers, extracted with `git archive` beside a link to today's
 * `node_modules` and bundled with that commit's own `esbuildOptions`. An entry that no longer
 * builds (a package since removed) is left out with a note; so is everything when the commit is
 * not in the clone (a shallow CI checkout).
 */
async function bundleBefore(
  repoRoot: string,
  outRoot: string,
): Promise<{ targets: Map<string, Target>; notes: string[] }> {
  const src = path.join(outRoot, 'before-src');
  mkdirSync(src);
  const archive = spawnSync(
    'sh',
    ['-c', `git archive ${BEFORE_COMMIT} lambdas lib | tar -x -C "${src}"`],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  if (archive.status !== 0)
    return {
      targets: new Map(),
      notes: [`commit ${BEFORE_COMMIT} not available: ${archive.stderr.trim()}`],
    };
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(src, 'node_modules'), 'dir');
  let mod: { esbuildOptions: (entry: string, outfile: string) => Options };
  try {
    mod = (await import(path.join(src, 'lib', 'constructs', 'worker-function.ts'))) as typeof mod;
  } catch (err) {
    return {
      targets: new Map(),
      notes: [`its esbuildOptions do not load: ${(err as Error).message}`],
    };
  }
  const entries = readdirSync(path.join(src, 'lambdas', 'handlers')).filter((f) =>
    f.endsWith('.ts'),
  );
  const outFile = (name: string) => {
    mkdirSync(path.join(outRoot, 'before', name), { recursive: true });
    return path.join(outRoot, 'before', name, 'index.js');
  };
  const targets = await bundleEntries(entries.sort(), mod.esbuildOptions, outFile, src);
  const notes = [...targets]
    .filter(([, t]) => t.error)
    .map(([entry, t]) => `\`${entry}\` no longer builds with today's node_modules (${t.error})`);
  for (const [entry, t] of targets) if (t.error) targets.delete(entry);
  return { targets, notes };
}

const medianOf = (t: Target, k: keyof Sample) => (t.error ? NaN : median(t.plain.map((x) => x[k])));

/** Bundles every handler, the probes and the before bundles, and times their import `runs` times. */
export async function measureColdStarts(repoRoot: string, runs: number): Promise<ColdStartResult> {
  // The deployed functions' entries, from the one function registry.
  const entries = FUNCTION_NAMES.map((fn) => FUNCTIONS[fn].entryFile).sort();
  const outRoot = mkdtempSync(path.join(tmpdir(), 'bench-bundles-'));
  const emptyFile = path.join(outRoot, 'empty.js');
  writeFileSync(emptyFile, '');
  const outFile = (name: string) => {
    mkdirSync(path.join(outRoot, name), { recursive: true });
    return path.join(outRoot, name, 'index.js');
  };
  const handlers = await bundleEntries(entries, esbuildOptions, outFile, repoRoot);
  const probes = await bundleModules(HTTP_PROBES, (n) => outFile(`http-${n}`), repoRoot);
  const floors = await bundleModules(FLOOR_PROBES, (n) => outFile(`floor-${n}`), repoRoot);
  const before = await bundleBefore(repoRoot, outRoot);

  const empty = target(emptyFile);
  const probeSet = new Set(probes.values());
  const plainOnly = new Set([...floors.values(), ...before.targets.values()]);
  const all = [
    empty,
    ...handlers.values(),
    ...before.targets.values(),
    ...floors.values(),
    ...probeSet,
  ];
  timeAll(all, probeSet, plainOnly, runs);
  const options = esbuildOptions('x.ts', 'x.js');
  const result: ColdStartResult = {
    runs,
    esbuildVersion: esbuildVersionOf(repoRoot),
    target: String(options.target),
    mainFields: [...options.mainFields],
    empty: { processMs: medianOf(empty, 'processMs'), requireMs: medianOf(empty, 'requireMs') },
    bundles: [...handlers].map(([entry, t]) => bundleResult(entry, t)),
    httpProbes: [...probes].map(([name, t]) => ({
      name,
      bytes: bundleResult(name, t).bytes,
      requireMs: medianOf(t, 'requireMs'),
      firstRequestMs: t.error ? NaN : median(t.first),
      ...(t.error ? { error: t.error } : {}),
    })),
    floors: FLOOR_PROBES.map(({ name, entries: of }) => {
      const t = floors.get(name)!;
      const { bytes, requireMs } = {
        ...bundleResult(name, t),
        requireMs: medianOf(t, 'requireMs'),
      };
      return { name, entries: of, bytes, requireMs, ...(t.error ? { error: t.error } : {}) };
    }),
    beforeNow: Object.fromEntries(
      [...before.targets].map(([e, t]) => [
        e,
        { bytes: bundleResult(e, t).bytes, requireMs: medianOf(t, 'requireMs') },
      ]),
    ),
    beforeNotes: before.notes,
  };
  rmSync(outRoot, { recursive: true, force: true });
  return result;
}

function esbuildVersionOf(repoRoot: string): string {
  const file = path.join(repoRoot, 'node_modules', 'esbuild', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
