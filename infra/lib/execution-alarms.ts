import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The execution statuses a person is told of: every way an execution ends without succeeding. */
export const NOTIFIED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export interface ExecutionAlarmsProps {
  readonly stateMachine: sfn.StateMachine;
  /** The schedules' dead-letter queue, when there are schedules. */
  readonly scheduleDeadLetterQueue?: sqs.IQueue;
  readonly email?: string;
}

/**
 * Tells a person, through an encrypted SNS topic, of each execution that
 * failed, timed out or was aborted (an EventBridge rule), and of schedules
 * that could not start one (a CloudWatch alarm on their dead-letter queue).
 *
 * Why a rule rather than an alarm on the ExecutionsFailed/TimedOut metrics:
 * the rule sends one message per execution, naming it, with its status and a
 * console link, where an alarm sends one per state change of a metric (two
 * failures in one period are one message, naming neither); and metric math
 * over two metrics has data only where both have points, which TimedOut
 * almost never does, so `failed + timedOut` without FILL never breaches.
 *
 * The topic's policy holds enforceSSL's Deny, which replaces SNS's default
 * policy: each publishing service is allowed explicitly, for its own
 * resource only (aws:SourceArn, aws:SourceAccount: no confused deputy), and
 * the topic's key lets the same services encrypt.
 */
export class ExecutionAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly executionsRule: events.Rule;
  readonly deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ExecutionAlarmsProps) {
    super(scope, id);
    // A customer-managed key: neither CloudWatch nor EventBridge can publish to a topic under the
    // AWS-managed SNS key, whose policy cannot be changed.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'S3 Logs Analyzer: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'S3 Logs Analyzer alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }

    const stateMachineArn = props.stateMachine.stateMachineArn;
    this.executionsRule = new events.Rule(this, 'ExecutionsFailed', {
      description:
        'S3 Logs Analyzer: an execution failed, timed out or was aborted; tells the alarm topic which',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...NOTIFIED_STATUSES], stateMachineArn: [stateMachineArn] },
      },
    });
    const executionArn = events.EventField.fromPath('$.detail.executionArn');
    const region = events.EventField.region;
    const message = events.RuleTargetInput.fromText(
      `S3 Logs Analyzer: execution ${events.EventField.fromPath('$.detail.name')} ended ` +
        `${events.EventField.fromPath('$.detail.status')}. Once the cause is fixed, redrive it ` +
        '(infra/README.md, "When an execution fails"). The failed state, its error and cause: ' +
        `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`,
    );
    // Not aws-events-targets' SnsTopic: it allows events.amazonaws.com to publish with no condition.
    this.executionsRule.addTarget({
      bind: () => ({ arn: this.topic.topicArn, input: message, targetResource: this.topic }),
    });
    this.allowPublishing('EventBridgeRule', 'events.amazonaws.com', this.executionsRule.ruleArn, key);

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
      this.allowPublishing('CloudWatchAlarm', 'cloudwatch.amazonaws.com', this.deadLetterAlarm.alarmArn, key);
    }
  }

  /** Lets `service` publish to the topic on behalf of `sourceArn` of this account, and use its key. */
  private allowPublishing(source: string, service: string, sourceArn: string, key: kms.IKey): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `${source}Publishes`,
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': sourceArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    // SNS encrypts each message with the topic's key on the publisher's behalf.
    key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
}
