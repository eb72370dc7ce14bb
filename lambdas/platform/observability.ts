import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, type MetricName } from './metrics';

/**
 * Module-level Powertools singletons shared by every handler (one per bundle).
 * Service name, namespace and log level come from the function's environment
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL), set by
 * the WorkerFunction construct from the stage config.
 */
const stage = process.env.STAGE ?? 'local';

export const logger = new Logger({ persistentKeys: { stage } });

export const metrics = new Metrics({ defaultDimensions: { stage } });

export { MetricUnit };

/**
 * Adds a business metric, in the unit METRICS gives it, when there is something to count (no
 * zero datapoints, no empty flush warnings).
 */
export function countMetric(name: MetricName, value: number): void {
  if (value > 0) metrics.addMetric(name, MetricUnit[METRICS[name].unit], value);
}

/** A level-keyed log function for the pure flows, which take logging as a dependency. */
export function logAt(
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data?: Record<string, unknown>,
): void {
  logger[level](message, data ?? {});
}

/** Adds the run's correlation id to every following log line of this invocation. */
export function correlate(runId: string): void {
  logger.appendKeys({ correlation_id: runId });
}

/** Metrics and logs as the pure flows take them (`count`, `log`, `correlate`). */
export const flowObservability = { count: countMetric, log: logAt, correlate } as const;
