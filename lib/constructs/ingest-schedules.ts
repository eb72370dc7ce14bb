import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ScheduleConfig } from '../config/stages';

export interface ScheduledRuleProps {
  readonly description: string;
  readonly schedule: ScheduleConfig;
  readonly target: lambda.IFunction;
}

/**
 * The nightly EventBridge rules (refresh, analysis, freshness check), one `add` per pipeline;
 * every rule lives under this one construct (`Schedules/<id>`), which keeps their logical IDs.
 * A rule switched off by config stays in the template with `State: DISABLED` (the rollback
 * switch: disable these, re-enable the old service's rules).
 */
export class IngestSchedules extends Construct {
  /** Adds a rule (`id`: `TickerRefreshRule`, `AnalysisRule`, `FreshnessCheckRule`) targeting a function. */
  public add(id: string, props: ScheduledRuleProps): events.Rule {
    const rule = new events.Rule(this, id, {
      description: props.description,
      enabled: props.schedule.enabled,
      schedule: events.Schedule.cron({
        minute: props.schedule.cron.minute,
        hour: props.schedule.cron.hour,
        weekDay: props.schedule.cron.weekDay,
      }),
    });
    // A scheduled run that fails is retried by EventBridge for up to 2 hours, then alarmed on.
    rule.addTarget(
      new targets.LambdaFunction(props.target, {
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      }),
    );
    return rule;
  }
}
