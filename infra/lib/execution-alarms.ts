import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ExecutionAlarmsProps {
  readonly stateMachine: sfn.StateMachine;
  /** The schedules' dead-letter queue, when there are schedules. */
  readonly scheduleDeadLetterQueue?: sqs.IQueue;
  readonly email?: string;
}

/**
 * Alarms on failed or timed-out executions (and on schedules that could not
 * start one), notifying an encrypted SNS topic.
 */
export class ExecutionAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly executionsAlarm: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ExecutionAlarmsProps) {
    super(scope, id);
    // A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'S3 Logs Analyzer: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'S3 Logs Analyzer alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }

    const failures = new cloudwatch.MathExpression({
      label: 'Executions failed or timed out',
      expression: 'failed + timedOut',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ statistic: 'Sum' }),
        timedOut: props.stateMachine.metricTimedOut({ statistic: 'Sum' }),
      },
      period: Duration.minutes(5),
    });
    this.executionsAlarm = failures.createAlarm(this, 'ExecutionsFailed', {
      alarmDescription:
        'An S3 Logs Analyzer execution failed or timed out. The execution names the failed state and ' +
        'its cause; redrive it once fixed (infra/README.md, "When an execution fails").',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.executionsAlarm.addAlarmAction(new actions.SnsAction(this.topic));

    if (props.scheduleDeadLetterQueue) {
      this.deadLetterAlarm = props.scheduleDeadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
        .createAlarm(this, 'ScheduleDeadLetters', {
          alarmDescription:
            'A schedule could not start an S3 Logs Analyzer execution after its retries; the message in ' +
            'the dead-letter queue says why.',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      this.deadLetterAlarm.addAlarmAction(new actions.SnsAction(this.topic));
    }
  }
}
