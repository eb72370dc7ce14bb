import { writeReport } from './harness/report';

/** Writes FAULTS.md from the records the cases left (see harness/report.ts). */
export default function globalTeardown(): void {
  process.stdout.write(`\n${writeReport()}\n`);
}
