/**
 * Runs the local SQS endpoint (sim/sqs-server.ts) in its own Node process, for callers that keep
 * it off their own event loop and CPU time (the benchmark): reports `{ endpoint }` over IPC, and
 * its CPU time when sent `'cpu-usage'`. Exits when the parent disconnects.
 */
import { startSqsServer } from './sqs-server';

async function main(): Promise<void> {
  const server = await startSqsServer();
  process.send?.({ endpoint: server.endpoint });
  process.on('message', (m) => {
    if (m === 'cpu-usage') process.send?.({ cpuUsage: process.cpuUsage() });
  });
  process.once('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
