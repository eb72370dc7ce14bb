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

export interface IngestSchedulesProps {
  readonly tickerRefresh: ScheduledRuleProps;
  readonly analysis: ScheduledRuleProps;
  readonly freshnessCheck: ScheduledRuleProps;
}

/**
 * The nightly EventBridge rules (refresh, analysis, freshness check). A rule switched off by config stays in the template with
 * `State: DISABLED` (the rollback switch: disable these, re-enable the old service's rules).
 */
export class IngestSchedules extends Construct {
  public readonly tickerRefreshRule: events.Rule;
  public readonly analysisRule: events.Rule;
  public readonly freshnessRule: events.Rule;

  constructor(scope: Construct, id: string, props: IngestSchedulesProps) {
    super(scope, id);
    this.tickerRefreshRule = this.rule('TickerRefreshRule', props.tickerRefresh);
    this.analysisRule = this.rule('AnalysisRule', props.analysis);
    this.freshnessRule = this.rule('FreshnessCheckRule', props.freshnessCheck);
  }

  private rule(id: string, props: ScheduledRuleProps): events.Rule {
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
