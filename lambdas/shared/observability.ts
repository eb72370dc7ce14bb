import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

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
