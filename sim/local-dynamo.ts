import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  cachedLocalTableDefinitions,
  defaultLocalTableNames,
  type LocalTableNames,
} from './local-tables';

// dynalite has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}) => Server;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly names: LocalTableNames;
  readonly client: DynamoDBClient;
  /** Whether the table definitions came from the cache (no synthesis this time). */
  readonly tablesCached: boolean;
  close(): Promise<void>;
}

/**
 * Starts dynalite (a real DynamoDB engine, in-process, LevelDB-backed) on a free loopback port and
 * creates the service's tables from the CDK stack's definitions (cached between runs). `dataDir`
 * persists the data between runs (one process at a time: LevelDB locks it).
 */
export async function startLocalDynamo(
  opts: { names?: LocalTableNames; dataDir?: string } = {},
): Promise<LocalDynamo> {
  const names = opts.names ?? defaultLocalTableNames();
  const tables = cachedLocalTableDefinitions(names);
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.dataDir ? { path: opts.dataDir } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async () => {
    client.destroy();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  try {
    for (const def of tables.definitions) {
      try {
        await client.send(new CreateTableCommand(def));
      } catch (err) {
        if ((err as Error).name !== 'ResourceInUseException') throw err;
      }
    }
  } catch (err) {
    await close();
    throw new Error(
      `The local DynamoDB could not create its tables${opts.dataDir ? ` in ${opts.dataDir} (is another run using this data directory?)` : ''}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { endpoint, names, client, tablesCached: tables.cached, close };
}
