import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, version } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../../lib/functions';
import { esbuildOptions, repoRoot } from '../../lib/constructs/worker-function';
import type { LambdaHandler } from './lambda-runtime';

export { repoRoot };

/** Where `npm start` and `npm run invoke` build the bundles (gitignored). */
export const DEFAULT_BUNDLE_DIR = path.join(repoRoot, '.local', 'bundles');

/** One function's deployable code: the file Lambda loads and the export it calls. */
export interface FunctionBundle {
  readonly fn: FunctionName;
  readonly file: string;
  readonly exportName: string;
  /** `esbuild`: built here with the deployed settings; `cdk-out`: a synthesized asset. */
  readonly origin: 'esbuild' | 'cdk-out';
  /** Built by this call (an `esbuild` bundle whose inputs were unchanged is reused). */
  readonly rebuilt: boolean;
}

/** What a bundle was built from: the options, esbuild's version, the lock file and every input. */
interface BuildInfo {
  readonly key: string;
  readonly builtAt: number;
  readonly inputs: readonly string[];
}

/** Options, esbuild version and lock file: a change to any of them rebuilds every bundle. */
function buildKey(options: object): string {
  return createHash('sha256')
    .update(JSON.stringify({ options, esbuild: version }))
    .update(readFileSync(path.join(repoRoot, 'package-lock.json')))
    .digest('hex');
}

function isCurrent(infoFile: string, bundleFile: string, key: string): boolean {
  if (!existsSync(infoFile) || !existsSync(bundleFile)) return false;
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as BuildInfo;
  if (info.key !== key) return false;
  return info.inputs.every((input) => {
    const file = path.join(repoRoot, input);
    return existsSync(file) && statSync(file).mtimeMs < info.builtAt;
  });
}

/**
 * Builds the functions' bundles with the deployed bundle's esbuild options (`esbuildOptions` of
 * `lib/constructs/worker-function.ts`: CommonJS, target `BUNDLE_TARGET` from
 * lib/config/runtime.ts, minified, source maps, the AWS SDK bundled) into `<outDir>/<function>/index.js`, the layout of a Lambda asset. A bundle whose
 * inputs (every file esbuild read, the lock file, the options) are unchanged since its build is
 * reused.
 */
export async function buildBundles(
  fns: readonly FunctionName[],
  outDir: string = DEFAULT_BUNDLE_DIR,
): Promise<FunctionBundle[]> {
  const bundles = fns.map((fn) => {
    const file = path.join(outDir, fn, 'index.js');
    const options = esbuildOptions(FUNCTIONS[fn].entryFile, file);
    return {
      fn,
      file,
      options,
      key: buildKey(options),
      infoFile: path.join(outDir, fn, 'build-info.json'),
    };
  });
  const stale = new Set(bundles.filter((b) => !isCurrent(b.infoFile, b.file, b.key)));
  await Promise.all(
    [...stale].map(async (b) => {
      const builtAt = Date.now();
      const result = await build({ ...b.options, absWorkingDir: repoRoot, metafile: true });
      if (result.errors.length > 0)
        throw new Error(
          `esbuild failed for ${b.fn}: ${result.errors.map((e) => e.text).join('; ')}`,
        );
      const output = result.metafile.outputs[path.relative(repoRoot, b.file)];
      if (!output) return;
      const info: BuildInfo = { key: b.key, builtAt, inputs: Object.keys(output.inputs) };
      writeFileSync(b.infoFile, JSON.stringify(info));
    }),
  );
  return bundles.map((b) => ({
    fn: b.fn,
    file: b.file,
    exportName: 'handler',
    origin: 'esbuild',
    rebuilt: stale.has(b),
  }));
}

interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: { readonly FunctionName?: unknown; readonly Handler?: unknown };
  readonly Metadata?: Record<string, unknown>;
}

/**
 * Finds each function's bundle in a synthesized cloud assembly, as SYSTEM.md has tools do: the
 * `AWS::Lambda::Function` whose `FunctionName` ends in `-<function>`, its asset directory from
 * `Metadata['aws:asset:path']` and its file and export from `Handler` (`index.handler`).
 * Prefers the `dev` stage's template when several stages are synthesized (the code is the same).
 */
export function bundlesFromCdkOut(
  cdkOutDir: string,
  fns: readonly FunctionName[],
): FunctionBundle[] {
  if (!existsSync(cdkOutDir)) {
    throw new Error(`${cdkOutDir} does not exist: run "npm run synth" first, or drop --cdk-out`);
  }
  const templates = readdirSync(cdkOutDir)
    .filter((f) => f.endsWith('.template.json'))
    .sort((a, b) => Number(b.includes('-dev.')) - Number(a.includes('-dev.')) || (a < b ? -1 : 1));
  const found = new Map<FunctionName, FunctionBundle>();
  for (const file of templates) {
    const template = JSON.parse(readFileSync(path.join(cdkOutDir, file), 'utf8')) as {
      Resources?: Record<string, TemplateResource>;
    };
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = resource.Properties?.FunctionName;
      const fn = fns.find((f) => typeof name === 'string' && name.endsWith(`-${f}`));
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const handler = resource.Properties?.Handler;
      if (!fn || found.has(fn) || typeof assetPath !== 'string' || typeof handler !== 'string')
        continue;
      const dot = handler.lastIndexOf('.');
      const assetDir = path.resolve(cdkOutDir, assetPath);
      const moduleFile = path.join(assetDir, `${handler.slice(0, dot)}.js`);
      if (!existsSync(moduleFile)) {
        throw new Error(
          `${file} names ${moduleFile} as ${fn}'s code, but it does not exist (was the app synthesized with bundling skipped?); run "npm run synth"`,
        );
      }
      found.set(fn, {
        fn,
        file: moduleFile,
        exportName: handler.slice(dot + 1),
        origin: 'cdk-out',
        rebuilt: false,
      });
    }
  }
  const missing = fns.filter((fn) => !found.has(fn));
  if (missing.length > 0) {
    throw new Error(
      `No bundle for ${missing.join(', ')} in ${cdkOutDir} (no AWS::Lambda::Function named *-<function> with an asset path); run "npm run synth"`,
    );
  }
  return fns.map((fn) => found.get(fn)!);
}

/**
 * Loads a bundle as the Node.js runtime does (`require` of the file, then its export). The
 * environment contract must be in `process.env` first: Powertools reads it at module load.
 */
export function loadHandler(bundle: FunctionBundle): LambdaHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(bundle.file) as Record<string, unknown>;
  const handler = mod[bundle.exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${bundle.file} does not export a function named "${bundle.exportName}"`);
  }
  return handler as LambdaHandler;
}
