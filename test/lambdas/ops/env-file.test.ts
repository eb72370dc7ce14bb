import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadEnvFile } from '../../../scripts/lib/env-file';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'env-file-'));
const KEYS = ['OPS_TEST_FROM_FILE', 'OPS_TEST_EMPTY', 'OPS_TEST_SHELL'];

afterEach(() => KEYS.forEach((k) => delete process.env[k]));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('.env loading', () => {
  it('loads the file; the shell wins over it and an empty key stays unset', () => {
    // Prepare
    const file = path.join(work, '.env');
    writeFileSync(
      file,
      '# comment\nOPS_TEST_FROM_FILE=from-file\nOPS_TEST_EMPTY=\nOPS_TEST_SHELL=from-file\n',
    );
    process.env.OPS_TEST_SHELL = 'from-shell';

    // Act
    const loaded = loadEnvFile(file);

    // Assess
    expect(loaded).toBe(file);
    expect(process.env.OPS_TEST_FROM_FILE).toBe('from-file');
    expect(process.env.OPS_TEST_SHELL).toBe('from-shell');
    expect('OPS_TEST_EMPTY' in process.env).toBe(false);
  });

  it('does nothing without a file', () => {
    expect(loadEnvFile(path.join(work, 'absent'))).toBeUndefined();
  });

  it('.env.example lists, empty, every variable a local run reads from the caller', () => {
    // The caller's variables the local services read (`env.X` in local-services.ts).
    const source = readFileSync(path.join(repoRoot, 'scripts/lib/local-services.ts'), 'utf8');
    const read = new Set([...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]));
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    const listed = new Map(
      [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );

    expect(read.size).toBeGreaterThanOrEqual(6);
    for (const key of read) expect([key, listed.get(key)]).toEqual([key, '']);
  });
});
