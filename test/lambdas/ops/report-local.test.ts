/**
 * `npm run report -- --stage local` after a real local night (`npm start -- --data-dir DIR` as a
 * child process, simulators and all): complete → exit 0; then the same data with one ticker's
 * session row and one portfolio's analysis gone, as a night where they failed → exit 1, both named.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo } from '../../../sim/local-dynamo';
import { defaultLocalTableNames } from '../../../sim/local-tables';
import { main } from '../../../scripts/ops/report';
import { NIGHT_RECORD_FILE } from '../../../scripts/lib/night-record';

jest.setTimeout(240_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const names = defaultLocalTableNames('local');
const ZSM_SEVEN = '7e5b8c2a-0d1f-4a3b-9c6d-1e2f3a4b5c01';
const work = mkdtempSync(path.join(tmpdir(), 'report-local-'));
const dataDir = path.join(work, 'data');

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One local night into `dataDir`, without real upstream keys. */
function localNight(): Promise<number | null> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['POLYGON_API_KEY', 'XAI_API_KEY'].includes(k)),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      [
        'tsx',
        'scripts/local-run.ts',
        '--data-dir',
        dataDir,
        '--log-file',
        path.join(work, 'night.log'),
      ],
      { cwd: repoRoot, env, stdio: 'ignore' },
    );
    child.once('error', reject);
    child.once('close', resolve);
  });
}

async function report(args: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--stage', 'local', '--data-dir', dataDir, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => {
      throw new Error('the local report must not read the clock');
    },
    clients: () => {
      throw new Error('the local report must not build AWS clients');
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Deletes every row of `key = value` matching `pick` (the items' own keys). */
async function deleteRows(
  doc: DynamoDBDocumentClient,
  table: string,
  key: string,
  value: string,
  pick: (item: Record<string, unknown>) => boolean,
): Promise<number> {
  const rows = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': key },
      ExpressionAttributeValues: { ':v': value },
    }),
  );
  const doomed = (rows.Items ?? []).filter(pick);
  for (const item of doomed)
    await doc.send(
      new DeleteCommand({
        TableName: table,
        Key: { [key]: value, timestamp: item.timestamp },
      }),
    );
  return doomed.length;
}

describe('npm run report -- --stage local', () => {
  let session: string;

  beforeAll(async () => {
    expect(await localNight()).toBe(0);
    session = JSON.parse(readFileSync(path.join(dataDir, NIGHT_RECORD_FILE), 'utf8')).session;
  });

  it('exits 0 after a complete local night, with every line of the report', async () => {
    // Act
    const json = path.join(work, 'complete.json');
    const ran = await report(['--json', json]);
    const data = JSON.parse(readFileSync(json, 'utf8'));

    // Assess
    expect(ran.err).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.out).toContain(`Night of session ${session} on stage local: COMPLETE`);
    expect(ran.out).toContain('Upstreams   Polygon SIMULATED, xAI SIMULATED');
    expect(ran.out).toMatch(/Tickers {5}fresh 6\/7; stale 0; without data 1: NOSUCHCO/);
    expect(ran.out).toMatch(
      /Analyses {4}2\/2 of this session \(stored 2, already done 0\); failed 0/,
    );
    expect(ran.out).toContain('ticker-processing-queue-local: 0 waiting, DLQ 0');
    expect(ran.out).toMatch(/Polygon {5}\d+ call\(s\), at most [1-5] in any minute/);
    expect(data).toMatchObject({ complete: true, problems: [], session });
    expect(data.analyses.costUsd).toBeGreaterThan(0);
    expect(data.analyses.tokens).toBeGreaterThan(0);
  });

  it('exits 1 naming the stale ticker and the portfolio without an analysis', async () => {
    // Prepare: the night as if META's refresh and ZSM Seven's analysis had failed.
    const dynamo = await startLocalDynamo({ names, dataDir });
    try {
      const doc = DynamoDBDocumentClient.from(dynamo.client);
      const isSession = (i: Record<string, unknown>) => i.asOf === session;
      expect(await deleteRows(doc, names.tickerData, 'ticker', 'META', isSession)).toBe(1);
      const ofSession = (i: Record<string, unknown>) => i.dataAsOf === session;
      expect(await deleteRows(doc, names.analyses, 'portfolio', ZSM_SEVEN, ofSession)).toBe(1);
    } finally {
      await dynamo.close();
    }

    // Act
    const ran = await report([]);

    // Assess
    expect(ran.code).toBe(1);
    expect(ran.out).toContain('NOT COMPLETE');
    expect(ran.out).toMatch(/stale 1: META/);
    expect(ran.out).toContain(`failed 1: "ZSM Seven" (${ZSM_SEVEN})`);
    expect(ran.out).toContain(`portfolio "ZSM Seven" (${ZSM_SEVEN}) has no analysis`);
    expect(ran.out).toMatch(/META \(newest row: (none|\d{4}-\d{2}-\d{2})\)/);
  });

  it('exits 2 for an unknown stage, a bad session and a directory without a night', async () => {
    expect((await report(['--stage', 'qa'])).code).toBe(2);
    const bad = await report(['--session', '2026-13-45']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--session must be a date');
    const empty = await main(['--data-dir', path.join(work, 'nothing')], {
      out: () => undefined,
      err: (l) => expect(l).toContain('run "npm start -- --data-dir'),
      now: () => 0,
      clients: () => {
        throw new Error('unused');
      },
    });
    expect(empty).toBe(2);
  });
});
