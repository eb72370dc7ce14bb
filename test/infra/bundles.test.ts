import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { esbuildOptions } from '../../lib/constructs/worker-function';
import { FUNCTIONS, type FunctionName } from '../../lib/functions';

/** Issue 14: every deployed bundle stays at or under 1 MB minified, the AWS SDK included. */
const MAX_BUNDLE_BYTES = 1_000_000;

/** The functions that make an HTTP call; the others (fan-outs, freshness check) bundle no HTTP client. */
const HTTP_FUNCTIONS: ReadonlySet<FunctionName> = new Set(['processTicker', 'analyzePortfolio']);

/** The package an input of the metafile belongs to (`@scope/name` or `name`), or undefined for our code. */
function packageOf(input: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m?.[1];
}

/** The directory of each copy of `pkg` that went into the bundle (one entry per installed copy). */
function copiesOf(inputs: Metafile['outputs'][string]['inputs'], pkg: string): string[] {
  const dirs = Object.keys(inputs)
    .filter((input) => packageOf(input) === pkg)
    .map((input) => input.slice(0, input.lastIndexOf(`node_modules/${pkg}/`)));
  return [...new Set(dirs)];
}

describe('function bundles', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'bundles-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  /** One esbuild run per function (deployed options plus the metafile), shared by the tests. */
  const built = new Map<string, { outfile: string; output: Metafile['outputs'][string] }>();
  const build = (name: string, entryFile: string) => {
    const cached = built.get(name);
    if (cached) return cached;
    const outfile = path.join(outDir, name, 'index.js');
    const result = buildSync({ ...esbuildOptions(entryFile, outfile), metafile: true });
    expect(result.errors).toEqual([]);
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    if (!output) throw new Error(`esbuild wrote no entry output for ${name}`);
    const entry = { outfile, output };
    built.set(name, entry);
    return entry;
  };
  const cases = Object.entries(FUNCTIONS).map(([name, spec]) => [name, spec.entryFile] as const);

  it.each(cases)('%s bundles with esbuild into a self-contained handler', (name, entryFile) => {
    // Act
    const { outfile } = build(name, entryFile);

    // Assess: no external AWS SDK, and the bundle exports a handler function.
    const code = readFileSync(outfile, 'utf8');
    // Only the optional SigV4a signer may stay external (the SDK requires it inside a try/catch).
    expect(code).not.toMatch(/require\(["']@aws-sdk\/(client-|lib-|util-|core|credential-)/);
    const exported = execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(typeof require(${JSON.stringify(outfile)}).handler)`],
      {
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      },
    ).toString();
    expect(exported).toBe('function');
  });

  it.each(cases)('%s is at most 1,000,000 bytes minified', (name, entryFile) => {
    // Act
    const { output } = build(name, entryFile);

    // Assess: esbuild's own count of the written bytes (the SDK included).
    expect(output.bytes).toBeGreaterThan(0);
    expect(output.bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it.each(cases)('%s bundles one copy of Powertools commons', (name, entryFile) => {
    // Act
    const { output } = build(name, entryFile);

    // Assess: logger, metrics and parameters share one commons (one version installed).
    expect(copiesOf(output.inputs, '@aws-lambda-powertools/commons')).toHaveLength(1);
  });

  it.each(cases)('%s bundles an HTTP client only when it makes HTTP calls', (name, entryFile) => {
    // Act
    const { output } = build(name, entryFile);
    const packages = new Set(Object.keys(output.inputs).map(packageOf));

    // Assess: undici and the secret lookup only where Polygon or xAI is called.
    const http = HTTP_FUNCTIONS.has(name as FunctionName);
    expect(packages.has('undici')).toBe(http);
    expect(packages.has('@aws-lambda-powertools/parameters')).toBe(http);
    expect(packages.has('@aws-sdk/client-secrets-manager')).toBe(http);
    expect(Object.keys(output.inputs).some((i) => i.endsWith('lambdas/platform/http.ts'))).toBe(
      http,
    );
  });

  it('finds undici in the bundles that call out (the check above is live)', () => {
    // Act
    const { output } = build('processTicker', FUNCTIONS.processTicker.entryFile);

    // Assess: and undici's lib/ files, not its package entry with fetch and WebSocket.
    const inputs = Object.keys(output.inputs).filter((i) => packageOf(i) === 'undici');
    expect(inputs.some((i) => i.endsWith('undici/lib/api/api-request.js'))).toBe(true);
    expect(inputs.some((i) => /undici\/index\.js$/.test(i))).toBe(false);
    expect(inputs.some((i) => i.includes('undici/lib/web/websocket/'))).toBe(false);
  });
});
