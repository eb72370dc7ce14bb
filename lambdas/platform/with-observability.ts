import type { Context } from 'aws-lambda';
import { logger, metrics } from './observability';

/**
 * Wraps a handler with the Powertools basics (no middy): request context on every log line, a
 * cold-start metric, errors logged before they are rethrown (so `aws lambda invoke` reports a
 * function error with our message), and metrics flushed in `finally`.
 */
export function withObservability<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return async (event: E, context: Context): Promise<R> => {
    logger.addContext(context);
    metrics.captureColdStartMetric();
    try {
      return await fn(event, context);
    } catch (err) {
      logger.error(err instanceof Error ? err.message : 'handler failed', err as Error);
      throw err;
    } finally {
      metrics.publishStoredMetrics();
      // A warm container must not tag the next invocation with this one's run.
      logger.removeKeys(['correlation_id']);
    }
  };
}
