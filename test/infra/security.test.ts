import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import type { StageName } from '../../lib/config/stages';
import { esbuildOptions } from '../../lib/constructs/worker-function';
import { FUNCTIONS } from '../../lib/functions';
import { synthStage } from '../helpers/synth';

/** Shapes of credentials that must never be baked into a template or a bundle. */
const SECRET_PATTERNS: readonly [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['xAI key', /\bxai-[A-Za-z0-9]{20,}/],
  ['OpenAI-style key', /\bsk-[A-Za-z0-9]{20,}/],
  ['private key block', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['key in a query string', /[?&]apiKey=[A-Za-z0-9_-]{8,}/i],
  [
    'assigned credential',
    /["']?(api[_-]?key|secret[_-]?key|password|token)["']?\s*[:=]\s*["'][A-Za-z0-9_\-/+]{16,}["']/i,
  ],
  ['simulator key', /polygon-simulator-key|xai-simulator-key/],
];

const findings = (text: string) =>
  SECRET_PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);

describe('no secret-looking literal ships', () => {
  it('the patterns catch what they are meant to (the check is live)', () => {
    expect(findings('{"Value":"AKIAABCDEFGHIJKLMNOP"}')).toEqual(['AWS access key id']);
    expect(findings('fetch("https://x/?apiKey=abcdef1234567890")')).toEqual([
      'key in a query string',
    ]);
    expect(findings('const apiKey = "0123456789abcdefABCDEF"')).toEqual(['assigned credential']);
  });

  it.each(['dev', 'prod'] as StageName[])('in the %s template', (stage) => {
    const { template } = synthStage(stage);
    expect(findings(JSON.stringify(template.toJSON()))).toEqual([]);
  });

  describe('in the function bundles', () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'secret-scan-'));
    afterAll(() => rmSync(outDir, { recursive: true, force: true }));

    it.each(Object.entries(FUNCTIONS).map(([name, spec]) => [name, spec.entryFile]))(
      '%s',
      (name, entryFile) => {
        const outfile = path.join(outDir, name, 'index.js');
        buildSync(esbuildOptions(entryFile, outfile));
        expect(findings(readFileSync(outfile, 'utf8'))).toEqual([]);
      },
    );
  });
});
