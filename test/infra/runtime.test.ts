import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_TARGET, LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME } from '../../lib/config/runtime';
import { esbuildOptions } from '../../lib/constructs/worker-function';
import { synthStage } from '../helpers/synth';

const repoRoot = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const major = String(LAMBDA_NODE_MAJOR);

describe('the Lambda runtime Node major is set in one place (lib/config/runtime.ts)', () => {
  it('names the runtime and the bundle target after the same major', () => {
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${major}.x`);
    expect(BUNDLE_TARGET).toBe(`node${major}`);
    expect(esbuildOptions('process-ticker.ts', '/tmp/x.js').target).toBe(BUNDLE_TARGET);
  });

  it('.nvmrc, engines and @types/node follow it', () => {
    expect(read('.nvmrc').trim()).toBe(major);
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${major}\\.`));
  });

  it('every workflow job that runs the service on the runtime reads .nvmrc', () => {
    const dir = path.join(repoRoot, '.github', 'workflows');
    for (const file of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const versions = [...text.matchAll(/node-version(-file)?:\s*'?([^'\n]+)'?/g)].map((m) =>
        m[1] ? `file:${m[2]}` : m[2],
      );
      expect(versions.length).toBeGreaterThan(0);
      // Only the developer-tooling job pins an older major, and never an end-of-life one.
      for (const v of versions) expect(['file:.nvmrc', '22']).toContain(v);
      expect(versions).toContain('file:.nvmrc');
    }
  });

  it('every function of both stages runs on it', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const fns = synthStage(stage).template.findResources('AWS::Lambda::Function');
      const runtimes = new Set(
        Object.values(fns).map(
          (r) => (r as { Properties: { Runtime: string } }).Properties.Runtime,
        ),
      );
      expect([...runtimes]).toEqual([`nodejs${major}.x`]);
    }
  });
});
