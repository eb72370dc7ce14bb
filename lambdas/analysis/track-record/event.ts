import { InvalidEventError } from '../../platform/events';

/** `evaluateAnalyses` takes `{}` or an EventBridge scheduled event (whose content is not read). */
export function parseEvaluateAnalysesEvent(event: unknown): { kind: 'nightly' } {
  const isObject = typeof event === 'object' && event !== null && !Array.isArray(event);
  const scheduled =
    isObject && (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event';
  if (isObject && (Object.keys(event).length === 0 || scheduled)) return { kind: 'nightly' };
  throw new InvalidEventError(
    `evaluateAnalyses: expected {} or an EventBridge scheduled event, got ${JSON.stringify(event)?.slice(0, 100)}`,
  );
}
