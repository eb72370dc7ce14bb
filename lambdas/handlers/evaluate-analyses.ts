import { runTrackRecord } from '../analysis/track-record/flow';
import { parseEvaluateAnalysesEvent } from '../platform/events';
import { createTrackRecordDeps } from '../analysis/track-record/wiring';
import { withObservability } from '../platform/with-observability';

let deps: ReturnType<typeof createTrackRecordDeps> | undefined;

/** Nightly schedule or manual `{}`: evaluates analyses past their horizon, writes the track record. */
export const handler = withObservability(async (event: unknown, context) => {
  parseEvaluateAnalysesEvent(event);
  deps ??= createTrackRecordDeps();
  return runTrackRecord({ ...deps, remainingMs: () => context.getRemainingTimeInMillis() });
});
