/**
 * Runs dynalite (sim/local-dynamo.ts, tables from the synthesized template) in its own process so
 * that the DynamoDB engine gets its own core, and reports `{ endpoint, names, env }` over IPC (`env`: the local
 * environment contract of sim/local-env.ts) (and its CPU time when
 * sent `'cpu-usage'`). Exits when the parent disconnects.
 */
import { startLocalDynamo } from '../../sim/local-dynamo';
import { localServiceEnv } from '../../sim/local-env';

async function main(): Promise<void> {
  const dynamo = await startLocalDynamo();
  process.send?.({ endpoint: dynamo.endpoint, names: dynamo.names, env: localServiceEnv(dynamo) });
  process.on('message', (m) => {
    if (m === 'cpu-usage') process.send?.({ cpuUsage: process.cpuUsage() });
  });
  process.once('disconnect', () => {
    void dynamo.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
