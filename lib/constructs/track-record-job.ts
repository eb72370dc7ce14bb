import type { IngestSchedules } from './ingest-schedules';
import { createServiceFunction, type ServiceBase } from './service-functions';
import type { WorkerFunction } from './worker-function';

/**
 * evaluateAnalyses on its schedule (after the freshness deadline): evaluates the analyses whose
 * horizon has passed and writes the night's track record. No Polygon call: the closes are in
 * `ticker-data`. Not a Construct: created in the stack's scope, like the freshness check.
 */
export class TrackRecordJob {
  public readonly fn: WorkerFunction;

  constructor(base: ServiceBase, schedules: IngestSchedules) {
    this.fn = createServiceFunction(base, 'evaluateAnalyses');
    schedules.add('TrackRecordRule', {
      description: `Score track record: evaluations and the nightly aggregate (${base.config.stage})`,
      schedule: base.config.schedules.trackRecord,
      target: this.fn,
    });
  }
}
