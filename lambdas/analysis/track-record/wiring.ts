import { documentClient } from '../../platform/aws-clients';
import { createRefreshMarker } from '../../market-data/adapters/refresh-marker';
import { flowObservability, metrics, MetricUnit } from '../../platform/observability';
import type { MetricName } from '../../platform/metrics';
import { portfolioRepositoryFor } from '../../portfolios/portfolio-repository';
import { reportInvalidRecords } from '../../portfolios/records';
import type { TrackRecordItem } from './aggregate';
import { evaluateAnalysesConfig } from './config';
import type { TrackRecordDeps } from './flow';
import { createTrackRecordRepository } from './repositories';

/**
 * Publishes an item's numbers with the dimensions `model` and `promptVersion` (plus the default
 * `service` and `stage`): one single-metric EMF line each, so the dimensions stay on them only.
 */
export function publishTrackRecord(item: TrackRecordItem): void {
  const put = (
    name: MetricName,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number | undefined,
  ) => {
    if (value === undefined) return;
    const m = metrics.singleMetric();
    m.addDimensions({ model: item.model, promptVersion: item.promptVersion });
    m.addMetric(name, unit, value);
  };
  put('TrackRecordHitRate', MetricUnit.NoUnit, item.hitRate);
  put('TrackRecordIC', MetricUnit.NoUnit, item.meanIc);
  put('TrackRecordScores', MetricUnit.Count, item.scores);
}

/** `evaluateAnalyses`' dependencies from its environment, once per cold start (minus the clock). */
export function createTrackRecordDeps(
  env: NodeJS.ProcessEnv = process.env,
): Omit<TrackRecordDeps, 'remainingMs'> {
  const config = evaluateAnalysesConfig(env);
  const client = documentClient();
  const portfolios = portfolioRepositoryFor(config, reportInvalidRecords(flowObservability));
  const marker = createRefreshMarker({ client, tableName: config.stateTable });
  return {
    repo: createTrackRecordRepository({ client, ...config }),
    portfolioIds: async () => (await portfolios.activePortfolios()).map((p) => p.id),
    refreshedSession: () => marker.lastSession(),
    obs: flowObservability,
    publish: publishTrackRecord,
    benchmark: config.benchmarkTicker,
    horizon: config.horizon,
  };
}
