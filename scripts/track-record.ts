/**
 * `npm run track-record [-- --stage local|dev|prod] [--data-dir DIR] [--region R]`: prints the
 * score track record (the newest aggregate per model and prompt version) and the ten best and
 * worst calls of its window. Read-only. `local` reads the DynamoDB data a
 * `npm start -- --data-dir DIR` left (default `.local/data`); dev and prod read the deployed
 * tables with your AWS credentials (the calls come from a Scan of `portfolio-analyses-{stage}`,
 * filtered to evaluated rows: fine for an operator's look, not for a Lambda).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getStageConfig } from '../lib/config/stages';
import { startLocalDynamo } from '../sim/local-dynamo';
import { defaultLocalTableNames } from '../sim/local-tables';
import { repoRoot } from './lib/bundles';
import { scanAll } from './lib/night-report';
import {
  bestAndWorst,
  callsInWindow,
  formatAggregate,
  formatCalls,
  newestItems,
} from './lib/track-record-report';

const USAGE = `Usage: npm run track-record -- [--stage local|dev|prod] [--data-dir DIR] [--region R]`;

async function tables(stage: string, dataDir: string, region?: string) {
  if (stage === 'local') {
    const dynamo = await startLocalDynamo({ names: defaultLocalTableNames('local'), dataDir });
    return {
      doc: DynamoDBDocumentClient.from(dynamo.client),
      trackRecord: dynamo.names.trackRecord,
      analyses: dynamo.names.analyses,
      close: () => dynamo.close(),
    };
  }
  const config = getStageConfig(stage);
  return {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: region ?? config.env.region })),
    trackRecord: `analysis-track-record-${stage}`,
    analyses: `portfolio-analyses-${stage}`,
    close: () => Promise.resolve(),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string', default: 'local' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
    },
    strict: true,
  });
  const stage = values.stage ?? 'local';
  if (stage !== 'local') getStageConfig(stage); // an unknown stage lists the valid ones
  const dataDir = path.resolve(values['data-dir'] ?? path.join(repoRoot, '.local', 'data'));
  const t = await tables(stage, dataDir, values.region);
  try {
    const items = newestItems(await scanAll(t.doc, { TableName: t.trackRecord }));
    const lines = [`Score track record (${stage}${stage === 'local' ? `, ${dataDir}` : ''})`];
    lines.push(...formatAggregate(items));
    if (items.length > 0) {
      const asOf = items
        .map((i) => String(i.asOf))
        .sort()
        .at(-1)!;
      const window = Number(items[0].window ?? 60);
      const rows = await scanAll(t.doc, {
        TableName: t.analyses,
        FilterExpression: 'attribute_exists(evaluation)',
        ProjectionExpression:
          'portfolio, portfolioName, model, promptVersion, dataAsOf, evaluation',
      });
      const { best, worst } = bestAndWorst(callsInWindow(rows, asOf, window));
      lines.push(
        '',
        ...formatCalls(`Best calls (score × excess return), ${window} sessions to ${asOf}:`, best),
      );
      lines.push('', ...formatCalls('Worst calls:', worst));
      lines.push(
        '',
        'A hit rate near 50 % and an interval that includes 0 mean no evidence of skill yet; see README "Score track record".',
      );
    }
    console.log(lines.join('\n'));
    return 0;
  } finally {
    await t.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(err instanceof TypeError ? 2 : 1);
  },
);
