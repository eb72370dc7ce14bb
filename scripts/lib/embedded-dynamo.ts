import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { LocalDynamo } from '../../sim/local-dynamo';
import type { LocalTableNames } from '../../sim/local-tables';
import { repoRoot } from './bundles';

// dynalite has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}) => Server;

const CACHE_DIR = path.join(repoRoot, '.local', 'cache');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
    )
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

/** A digest of everything the table definitions are derived from (the CDK code and its version). */
function definitionsKey(names: LocalTableNames): string {
  const hash = createHash('sha256').update(JSON.stringify(names));
  const cdkVersion = (
    JSON.parse(
      readFileSync(path.join(repoRoot, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;
  hash.update(cdkVersion);
  for (const file of [
    ...filesUnder(path.join(repoRoot, 'lib')),
    path.join(repoRoot, 'sim', 'local-tables.ts'),
  ]) {
    hash.update(path.relative(repoRoot, file)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The CreateTable inputs of every table, from `sim/local-tables.ts` (which synthesizes the CDK
 * stack: the one source of truth). Synthesis takes seconds, so the result is cached in
 * `.local/cache/` under a digest of `lib/`, `sim/local-tables.ts` and the aws-cdk-lib version:
 * any change to the stack's code makes the next run synthesize again.
 */
export async function tableDefinitions(
  names: LocalTableNames,
): Promise<{ definitions: CreateTableCommandInput[]; cached: boolean }> {
  const file = path.join(CACHE_DIR, `table-definitions-${definitionsKey(names)}.json`);
  if (existsSync(file)) {
    return {
      definitions: JSON.parse(readFileSync(file, 'utf8')) as CreateTableCommandInput[],
      cached: true,
    };
  }
  const { localTableDefinitions } = await import('../../sim/local-tables');
  const definitions = localTableDefinitions(names);
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(definitions, null, 2));
  return { definitions, cached: false };
}

/**
 * Starts dynalite (the DynamoDB engine `sim/local-dynamo.ts` uses) on a free loopback port with
 * the given tables; `dataDir` keeps the data between runs (LevelDB files).
 */
export async function startEmbeddedDynamo(opts: {
  readonly names: LocalTableNames;
  readonly definitions: readonly CreateTableCommandInput[];
  readonly dataDir?: string;
}): Promise<LocalDynamo> {
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
    maxAttempts: 1,
  });
  const close = async () => {
    client.destroy();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  try {
    for (const def of opts.definitions) {
      try {
        await client.send(new CreateTableCommand(def));
      } catch (err) {
        if ((err as Error).name !== 'ResourceInUseException') throw err;
      }
    }
  } catch (err) {
    await close();
    throw new Error(
      `The embedded DynamoDB could not create its tables${opts.dataDir ? ` in ${opts.dataDir} (is another run using this data directory?)` : ''}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { endpoint, names: opts.names, client, close };
}
