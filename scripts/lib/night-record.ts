import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { NightResult } from './night-steps';

/**
 * What a local night leaves beside its DynamoDB data (`npm start -- --data-dir DIR`) for
 * `npm run report -- --stage local`: the local queues (moto) and the simulator's counters live
 * only as long as the run, so their final state is written here; the tables are read again.
 */
export const NIGHT_RECORD_FILE = 'last-night.json';

const count = z.number().int().nonnegative();
const depths = z.object({ waiting: count, deadLetters: count });

/** The parts of a {@link NightResult} the report reads, validated when read back. */
const nightRecordSchema = z.object({
  session: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  upstreams: z
    .object({
      polygon: z.object({ mode: z.enum(['simulated', 'real']) }),
      xai: z.object({ mode: z.enum(['simulated', 'real']) }),
    })
    .optional(),
  steps: z.object({
    processTickers: z.object({ invalid: z.object({ count }) }).optional(),
    processTicker: z
      .object({
        polygonCalls: count,
        noDataCount: count,
        noData: z.array(z.string()),
        positionsUpdated: count,
      })
      .optional(),
    analyzePortfolio: z
      .object({ stored: count, alreadyAnalysed: count, failed: count, costUsd: z.number() })
      .optional(),
  }),
  polygonSimulator: z.object({ requests: count, maxAdmittedInWindow: count }).optional(),
  report: z.object({ queues: z.object({ tickers: depths, analysis: depths }) }),
});

export type NightRecord = z.output<typeof nightRecordSchema>;

/** Writes the record of a finished night into its data directory. */
export function writeNightRecord(dataDir: string, result: NightResult): void {
  if (!result.session || !result.report) return;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, NIGHT_RECORD_FILE), `${JSON.stringify(result, null, 2)}\n`);
}

/** Reads the record of the last local night in `dataDir`; a missing or malformed one throws. */
export function readNightRecord(dataDir: string): NightRecord {
  const file = path.join(dataDir, NIGHT_RECORD_FILE);
  if (!existsSync(file))
    throw new Error(
      `No local night in ${dataDir} (${NIGHT_RECORD_FILE} is missing): run "npm start -- --data-dir ${dataDir}" first.`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = nightRecordSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${file} is not a night record: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}
