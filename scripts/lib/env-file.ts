import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './bundles';

/** The repository's `.env` (ignored by git; `.env.example` lists every variable). */
export const ENV_FILE = path.join(repoRoot, '.env');

/**
 * Loads `.env` into `process.env` when it exists, with Node's own loader (`process.loadEnvFile`,
 * Node ≥ 20.12; no dotenv dependency). A variable already set in the environment wins over the
 * file (Node's rule), so `XAI_API_KEY= npm start` still overrides it. Returns the file loaded.
 */
export function loadEnvFile(file: string = ENV_FILE): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
