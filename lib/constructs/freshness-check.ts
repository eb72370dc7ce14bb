import type { IngestSchedules } from './ingest-schedules';
import { createServiceFunction, type ServiceBase } from './service-functions';
import type { WorkerFunction } from './worker-function';

/**
 * checkFreshness on its schedule, after the nightly refresh: it reads the refresh marker and
 * publishes StaleData. Not a Construct: created in the stack's scope (logical IDs unchanged).
 */
export class FreshnessCheck {
  public readonly fn: WorkerFunction;

  constructor(base: ServiceBase, schedules: IngestSchedules) {
    this.fn = createServiceFunction(base, 'checkFreshness');
    schedules.add('FreshnessCheckRule', {
      description: `Data-freshness check after the nightly refresh (${base.config.stage})`,
      schedule: base.config.schedules.freshnessCheck,
      target: this.fn,
    });
  }
}
