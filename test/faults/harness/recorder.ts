import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { faultCaseSpec, type FaultCaseSpec } from './catalogue';

/** Where each case leaves its record for the report (cleared by global-setup.ts). */
export const RESULTS_DIR = path.join(__dirname, '..', '..', '..', '.local', 'faults', 'results');

/** What one case observed and checked; written whether it passed or not. */
export interface FaultCaseRecord {
  readonly id: string;
  /** What the system did, in the order observed. */
  readonly did: string[];
  /** The invariants and assertions checked. */
  readonly checked: string[];
  /** True only when the case body ran to its end without a failed assertion. */
  passed: boolean;
  /** The first failure, when it did not pass. */
  failure?: string;
}

/** Collects a case's observations. */
export class CaseRecorder {
  readonly record: FaultCaseRecord;

  constructor(readonly spec: FaultCaseSpec) {
    this.record = { id: spec.id, did: [], checked: [], passed: false };
  }

  /** Notes what the system did (deterministic text: counts and outcomes, no timings or ids). */
  did(text: string): void {
    this.record.did.push(text);
  }

  /** Notes what was checked. */
  checked(...texts: string[]): void {
    for (const t of texts) if (!this.record.checked.includes(t)) this.record.checked.push(t);
  }
}

/**
 * Registers one case of the catalogue as a jest test. The record is written when the test ends;
 * it says `passed` only if the body completed, so the report cannot claim a failing case.
 */
export function faultCase(
  id: string,
  body: (rec: CaseRecorder) => Promise<void>,
  timeoutMs = 120_000,
): void {
  const spec = faultCaseSpec(id);
  it(
    `${id} ${spec.injected}`,
    async () => {
      const rec = new CaseRecorder(spec);
      try {
        await body(rec);
        rec.record.passed = true;
      } catch (err) {
        rec.record.failure = (err instanceof Error ? err.message : String(err))
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(0, 6)
          .join(' / ');
        throw err;
      } finally {
        mkdirSync(RESULTS_DIR, { recursive: true });
        writeFileSync(path.join(RESULTS_DIR, `${id}.json`), JSON.stringify(rec.record, null, 2));
      }
    },
    timeoutMs,
  );
}
