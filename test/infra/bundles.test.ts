import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { esbuildOptions } from '../../lib/constructs/worker-function';
import { FUNCTIONS } from '../../lib/functions';

describe('function bundles', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'bundles-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it.each(Object.entries(FUNCTIONS).map(([name, spec]) => [name, spec.entryFile]))(
    '%s bundles with esbuild into a self-contained handler',
    (name, entryFile) => {
      // Prepare
      const outfile = path.join(outDir, name, 'index.js');

      // Act
      const result = buildSync(esbuildOptions(entryFile, outfile));

      // Assess: no errors, no external AWS SDK, and the bundle exports a handler function.
      expect(result.errors).toEqual([]);
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
    },
  );
});
