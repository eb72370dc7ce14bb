import { rmSync } from 'node:fs';
import { RESULTS_DIR } from './harness/recorder';

/** Starts the fault suite with no records left from an earlier run. */
export default function globalSetup(): void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
}
