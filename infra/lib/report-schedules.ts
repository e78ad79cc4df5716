import { Aws, Duration, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ScheduleConfig } from './config';
import { acknowledge } from './nag';

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

/**
 * When a schedule runs: the day after the period's last late-delivery slack
 * day, so the partitions ComputePeriod reads past the period's end are
 * complete (slack 1: weekly on Tuesday, monthly and quarterly on the 2nd).
 */
export function cronFor(schedule: ScheduleConfig, slackDays: number): scheduler.ScheduleExpression {
  const time = { minute: String(schedule.minute), hour: String(schedule.hour), timeZone: TimeZone.ETC_UTC };
  switch (schedule.frequency) {
    case 'weekly':
      return scheduler.ScheduleExpression.cron({ ...time, weekDay: WEEKDAYS[slackDays] });
    case 'monthly':
      return scheduler.ScheduleExpression.cron({ ...time, day: String(1 + slackDays) });
    case 'quarterly':
      return scheduler.ScheduleExpression.cron({ ...time, day: String(1 + slackDays), month: '1,4,7,10' });
  }
}

/** The execution input a schedule sends (shared/src/request.rs). */
export function executionInput(schedule: ScheduleConfig): Record<string, unknown> {
  return { frequency: schedule.frequency, ...schedule.flags };
}

export interface ReportSchedulesProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly schedules: readonly ScheduleConfig[];
  readonly slackDays: number;
}

/**
 * EventBridge Scheduler schedules that start the state machine, one per
 * frequency, with a retry policy and a dead-letter queue for starts that
 * still fail (the stack alarms on it).
 */
export class ReportSchedules extends Construct {
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedules: scheduler.Schedule[] = [];

  constructor(scope: Construct, id: string, props: ReportSchedulesProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler: starts the S3 Logs Analyzer state machine',
      // Only schedules of this account may use the role (confused-deputy guard).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the schedules; an alarm on its depth notifies the topic.',
    );

    for (const s of props.schedules) {
      const name = s.frequency[0].toUpperCase() + s.frequency.slice(1);
      this.schedules.push(
        new scheduler.Schedule(this, name, {
          description: `S3 Logs Analyzer: the ${s.frequency} report`,
          schedule: cronFor(s, props.slackDays),
          target: new targets.StepFunctionsStartExecution(props.stateMachine, {
            role: this.role,
            input: scheduler.ScheduleTargetInput.fromObject(executionInput(s)),
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 5,
            maxEventAge: Duration.hours(6),
          }),
        }),
      );
    }
  }
}
