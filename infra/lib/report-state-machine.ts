import * as fs from 'fs';
import * as path from 'path';
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConfigError } from './config';
import { acknowledge, acknowledgeWildcardResource } from './nag';
import { Step } from './pipeline-functions';

/** The definition `s3la run` executes locally, deployed as written. */
export const DEFINITION_FILE = path.join(
  __dirname,
  '..',
  '..',
  'statemachine',
  'definition',
  's3la.asl.json',
);

/** The `${Name}` placeholders of a definition, in order of first use. */
export function placeholders(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))];
}

/** The state machine's log group: AWS's prefix for vended logs, then the stack's name. */
export function stateMachineLogGroupName(stackName: string): string {
  return `/aws/vendedlogs/states/${stackName}-Report`;
}

export interface ReportStateMachineProps {
  /** @default DEFINITION_FILE */
  readonly definitionFile?: string;
  readonly functions: Record<Step, lambda.IFunction>;
  readonly queryWaitSeconds: number;
  readonly queryMaxPolls: number;
  /** Shards the MergeShards Map state merges at once. */
  readonly mergeConcurrency: number;
  readonly logRetentionDays: number;
  readonly tracing: boolean;
}

/**
 * The report state machine from statemachine/definition/s3la.asl.json. The
 * file is inlined (`fromString`), not uploaded (`fromFile`), so the
 * template's tests and linters see the definition.
 */
export class ReportStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReportStateMachineProps) {
    super(scope, id);
    const definitionFile = props.definitionFile ?? DEFINITION_FILE;
    const definition = fs.readFileSync(definitionFile, 'utf8');

    const substitutions: Record<string, string> = {
      QueryWaitSeconds: String(props.queryWaitSeconds),
      QueryMaxPolls: String(props.queryMaxPolls),
      MergeConcurrency: String(props.mergeConcurrency),
    };
    for (const [step, fn] of Object.entries(props.functions)) {
      substitutions[`${step}FunctionArn`] = fn.functionArn;
    }
    // A placeholder left in the deployed definition fails at run time, in the state that uses
    // it; refuse it at synth instead.
    const missing = placeholders(definition).filter((name) => !(name in substitutions));
    if (missing.length > 0) {
      throw new Error(
        `${definitionFile} uses \${${missing.join('}, ${')}}, which the stack does not substitute`,
      );
    }

    // The stack sets no timeout (see below), but the definition may: then the polls must end
    // before it, or every slow query ends as an execution timeout instead of QueryTimedOut.
    const timeoutSeconds = (JSON.parse(definition) as { TimeoutSeconds?: number }).TimeoutSeconds;
    const pollingSeconds = props.queryWaitSeconds * props.queryMaxPolls;
    if (timeoutSeconds !== undefined && pollingSeconds >= timeoutSeconds) {
      throw new ConfigError(
        'queryMaxPolls',
        `${props.queryMaxPolls} polls ${props.queryWaitSeconds} s apart (queryWaitSeconds) wait ${pollingSeconds} s, ` +
          `which is not less than the state machine's TimeoutSeconds, ${timeoutSeconds}, in ${definitionFile}: ` +
          `at most ${Math.ceil(timeoutSeconds / props.queryWaitSeconds) - 1}`,
      );
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      // Step Functions delivers its logs as vended logs: under this prefix CloudWatch Logs needs no
      // resource policy per log group, whose 5,120-character limit is otherwise soon reached.
      logGroupName: stateMachineLogGroupName(Stack.of(this).stackName),
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Named, so that its own role can name it: the Distributed Map starts child executions of this
    // state machine, and a role policy on the machine's generated ARN would be a circular reference.
    const stateMachineName = `${Stack.of(this).stackName}-Report`;
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'S3 Logs Analyzer: one period of S3 server access logs to Parquet, csv.gz and a report',
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: props.tracing,
      // No `timeout`: CDK cannot add TimeoutSeconds to a definition given as a string, and the file
      // is deployed as written. Every state is bounded anyway (QueryMaxPolls, Lambda timeouts, retries).
    });

    // CDK cannot see the ARNs inside the definition: allow exactly the step functions,
    // unqualified, as the definition invokes them.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(props.functions).map((fn) => fn.functionArn),
      }),
    );

    // The MergeShards Distributed Map runs each shard as a child execution of this state machine
    // (Step Functions guide, "IAM policies for using Distributed Map states"); a redrive of the
    // execution redrives the Map Run's failed children ("Redriving Map Runs").
    const states = (resource: string, resourceName: string): string =>
      Stack.of(this).formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [states('stateMachine', stateMachineName)],
      }),
    );
    const childExecutions = [states('execution', `${stateMachineName}/*`), states('execution', `${stateMachineName}:*`)];
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        resources: childExecutions,
      }),
    );
    acknowledgeWildcardResource(
      this.stateMachine.role,
      childExecutions[0],
      "The MergeShards Distributed Map's child executions, named by Step Functions at run time, of this " +
        'state machine only.',
    );
    acknowledgeWildcardResource(
      this.stateMachine.role,
      childExecutions[1],
      "This state machine's own executions, named at start, whose child executions the Map Run manages.",
    );

    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions logging to CloudWatch Logs uses the vended-log delivery actions ' +
        '(logs:CreateLogDelivery, logs:PutResourcePolicy, ...), which have no resource-level permissions' +
        (props.tracing ? '; so do X-Ray tracing\'s xray:PutTraceSegments and xray:GetSamplingRules.' : '.'),
    );
    if (!props.tracing) {
      acknowledge(
        this.stateMachine,
        'AwsSolutions-SF2',
        'X-Ray tracing is optional (-c tracing=true): the execution history and the ALL-level ' +
          'execution log already show each state with its input, output and error.',
      );
    }
  }
}
