import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { repoRoot } from './bundles';

/** The repository's `.env` (ignored by git; `.env.example` lists every variable). */
export const ENV_FILE = path.join(repoRoot, '.env');

/**
 * Loads `.env` into the environment when it exists, parsed by Node's own env-file parser
 * (`util.parseEnv`, the one behind `process.loadEnvFile` and `--env-file`, Node ≥ 20.12; no dotenv
 * dependency). A variable already set in the environment wins over the file (Node's rule), so
 * `XAI_API_KEY= npm start` still overrides it; a key left empty in the file (as in `.env.example`)
 * counts as unset. Returns the file loaded, if any.
 */
export function loadEnvFile(
  file: string = ENV_FILE,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const [key, value] of Object.entries(parseEnv(readFileSync(file, 'utf8'))))
    if (env[key] === undefined && value !== '') env[key] = value;
  return file;
}
