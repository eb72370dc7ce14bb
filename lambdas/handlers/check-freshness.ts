import { documentClient } from '../platform/aws-clients';
import { createRefreshMarker } from '../market-data/adapters/refresh-marker';
import { checkFreshness } from '../market-data/domain/freshness';
import { logger, metrics, MetricUnit } from '../platform/observability';
import { checkFreshnessConfig } from '../market-data/config';
import type { MetricName } from '../platform/metrics';
import { withObservability } from '../platform/with-observability';

let marker: ReturnType<typeof createRefreshMarker> | undefined;

/** Scheduled after the nightly refresh: publishes StaleData = 1 when the latest session is missing. */
export const handler = withObservability(async () => {
  marker ??= createRefreshMarker({
    client: documentClient(),
    tableName: checkFreshnessConfig().stateTable,
  });
  const verdict = checkFreshness(Date.now(), await marker.lastSession());
  // Published even when 0, so the alarm sees the check ran.
  metrics.addMetric('StaleData' satisfies MetricName, MetricUnit.Count, verdict.stale);
  if (verdict.stale)
    logger.error('Market data is stale: the latest session was not refreshed', { ...verdict });
  else logger.info('Market data is fresh', { ...verdict });
  return verdict;
});
