import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  localTableDefinitions,
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
}) => import('node:http').Server;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly names: LocalTableNames;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * Starts dynalite (a real DynamoDB engine, in-process, LevelDB-backed) on a free loopback port and
 * creates the service's tables. `dataDir` persists the data between runs.
 */
export async function startLocalDynamo(
  opts: { names?: LocalTableNames; dataDir?: string } = {},
): Promise<LocalDynamo> {
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
  const names = opts.names ?? defaultLocalTableNames();
  for (const def of localTableDefinitions(names)) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
  }
  return {
    endpoint,
    names,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
