import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo } from '../../sim/local-dynamo';
import { defaultLocalTableNames } from '../../sim/local-tables';
import { LOCAL_STAGE } from '../lib/local-services';
import { readNightRecord, type NightRecord } from '../lib/night-record';
import { readNightReport } from '../lib/night-report';
import { stages } from '../../lib/config/stages';
import { currentTrackRecord } from '../lib/track-record-report';
import { buildMorningReport, type MorningReport, type NightCounters } from './morning-report';

/** The counters of a local night, from its record (none when the record is of another session). */
function localCounters(record: NightRecord, session: string): NightCounters {
  if (record.session !== session) return {};
  const refresh = record.steps.processTicker;
  const analyses = record.steps.analyzePortfolio;
  return {
    polygonCalls: refresh?.polygonCalls,
    polygonMaxPerMinute: record.polygonSimulator?.maxAdmittedInWindow,
    positionsRepriced: refresh?.positionsUpdated,
    invalidPositions: record.steps.processTickers?.invalid.count,
    analysesStored: analyses?.stored,
    analysesAlreadyDone: analyses?.alreadyAnalysed,
  };
}

/**
 * The morning report of the local night `npm start -- --data-dir DIR` left behind: its tables
 * (dynalite on DIR, read as the run's own summary reads them) and its record (the final queue
 * depths and counters). Only one process may open DIR at a time.
 */
export async function localMorningReport(opts: {
  readonly dataDir: string;
  readonly session?: string;
}): Promise<MorningReport> {
  const record = readNightRecord(opts.dataDir);
  const session = opts.session ?? record.session;
  const names = defaultLocalTableNames(LOCAL_STAGE);
  const dynamo = await startLocalDynamo({ names, dataDir: opts.dataDir });
  try {
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    const refresh = record.session === session ? record.steps.processTicker : undefined;
    const q = record.report.queues;
    const night = await readNightReport({
      doc,
      names,
      session,
      noData: { count: refresh?.noDataCount ?? 0, named: new Set(refresh?.noData ?? []) },
      queueDepths: q,
    });
    const model = process.env.XAI_MODEL || stages.dev.xaiModel;
    return buildMorningReport({
      stage: LOCAL_STAGE,
      night,
      trackRecord: await currentTrackRecord(doc, names.trackRecord, model),
      counters: localCounters(record, session),
      upstreams: record.upstreams && {
        polygon: record.upstreams.polygon.mode,
        xai: record.upstreams.xai.mode,
      },
      queues: [
        { name: `ticker-processing-queue-${LOCAL_STAGE}`, ...q.tickers },
        { name: `portfolio-analysis-queue-${LOCAL_STAGE}`, ...q.analysis },
      ],
    });
  } finally {
    await dynamo.close();
  }
}
